// Generate on the python backend: the demo model run by transformers in the reference venv (CPU, fp32) through
// the CLI as a user runs it. The worker tokenizes the prompt and decodes the streamed ids, so greedy decoding
// gives the engine's text token for token; a seeded sampled run repeats itself; the engine's run options are
// refused on this backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { cliPath as cli, cliReference, repoRoot } from './venv.mjs';

const { venv, skip } = cliReference();

const model = join(repoRoot, 'examples', 'tiny-llama');

function generate(extra) {
  const r = spawnSync(process.execPath, [cli, 'generate', '--model', model, '--prompt', 'ROMEO:', '--json', ...extra], {
    encoding: 'utf8',
    env: { ...process.env, HF_HUB_OFFLINE: '1' },
    timeout: 300_000,
  });
  return { status: r.status, stderr: r.stderr, out: r.status === 0 ? JSON.parse(r.stdout) : undefined };
}

const onPython = () => ['--backend', 'python', '--python', venv.python];

test(
  "greedy decoding on transformers gives the engine's text, streamed and recorded as the python backend's",
  { skip, timeout: 300_000 },
  () => {
    const python = generate(['--max-tokens', '48', ...onPython()]);
    assert.equal(python.status, 0, python.stderr);
    const engine = generate(['--max-tokens', '48']);
    assert.equal(engine.status, 0, engine.stderr);
    assert.equal(python.out.tokens, 48);
    assert.equal(python.out.text, engine.out.text);
    assert.ok(python.out.text.length > 60, python.out.text);
    const run = python.out.run;
    assert.equal(run.backend.name, 'python');
    assert.equal(run.backend.device, 'cpu');
    assert.deepEqual(Object.keys(run.backend.libraries).sort(), ['torch', 'transformers']);
    assert.ok(run.metrics.tokensPerSecond > 0 && run.metrics.loadSeconds > 0 && run.metrics.pythonPeakRssBytes > 100 * 2 ** 20);
    assert.equal(engine.out.run.backend, undefined, "the engine's generate runs record no backend");
  },
);

test('a seeded sampled run repeats itself; the engine run options are refused on python', { skip, timeout: 300_000 }, () => {
  const sampled = (seed) => [
    '--max-tokens',
    '24',
    '--temperature',
    '0.8',
    '--top-k',
    '40',
    '--top-p',
    '0.95',
    '--seed',
    seed,
    ...onPython(),
  ];
  const [a, b] = [generate(sampled('7')), generate(sampled('7'))];
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.out.text, b.out.text);
  const other = generate(sampled('8'));
  assert.notEqual(other.out.text, a.out.text, 'another seed draws other tokens');
  const refused = generate(['--max-tokens', '4', '--kv-cache', 'fp16', ...onPython()]);
  assert.equal(refused.status, 1);
  assert.match(
    refused.stderr,
    /options\.kvCache is a run option of the engine; the python backend runs the checkpoint as transformers loads it/,
  );
});
