// The serving benchmark against a real OpenAI-compatible server on loopback: transformers 5.23's own
// `transformers serve` (FastAPI + uvicorn from the reference venv) serving the demo model on the CPU, measured
// through the CLI as a user runs it. The prompt tokens the server counted equal our tokenizer's count of the
// same prompts, every request streams to its end, and a field the server refuses comes back as its own answer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { cliPath as cli, cliReference, repoRoot } from './venv.mjs';

const { venv, skip } = cliReference();

const require = createRequire(import.meta.url);
const model = join(repoRoot, 'examples', 'tiny-llama');

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** `transformers serve <demo model>` on a free loopback port; resolves its API base once /health answers. */
async function startServer() {
  const port = await freePort();
  const transformers = join(venv.python, '..', 'transformers');
  const child = spawn(transformers, ['serve', model, '--host', '127.0.0.1', '--port', String(port), '--device', 'cpu'], {
    env: { ...process.env, HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
  after(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`transformers serve exited with ${child.exitCode}:\n${log}`);
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return `http://127.0.0.1:${port}/v1`;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`transformers serve did not answer /health within 180 s:\n${log}`);
}

function benchmark(base, extra) {
  const r = spawnSync(process.execPath, [cli, 'benchmark', '--endpoint', base, '--model', model, ...extra], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test(
  'transformers serve on loopback: a sweep of concurrency levels, counted as the server counted',
  { skip, timeout: 600_000 },
  async () => {
    const base = await startServer();
    const requests = 4;
    const promptWords = 48;
    const r = benchmark(base, [
      '--concurrency',
      '1,2',
      '--requests',
      String(requests),
      '--prompt-words',
      String(promptWords),
      '--max-tokens',
      '12',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const run = JSON.parse(r.stdout);
    assert.equal(run.kind, 'serving');
    assert.equal(run.endpoint.url, base);
    assert.equal(run.endpoint.tokenCount, 'usage');
    assert.equal(run.endpoint.server, 'uvicorn');
    assert.equal(run.endpoint.authenticated, false);
    assert.match(r.stderr, /\/v1\/models answered HTTP 500; measuring anyway/, 'transformers serve cannot list a local folder offline');

    // The same prompts through our tokenizer: the server's prompt_tokens must be exactly their token counts.
    const { servingPrompts } = require(join(repoRoot, 'out', 'native', 'worker', 'handlers', 'serving', 'prompts.js'));
    const { TextTokenizer } = require(join(repoRoot, 'out', 'native', 'lib', 'tokenizer.js'));
    const tokenizer = TextTokenizer.load(model);
    const prompts = servingPrompts(1 + 2 * requests, promptWords);
    assert.deepEqual(
      run.serving.map((l) => [l.concurrency, l.completed, l.failed]),
      [
        [1, requests, 0],
        [2, requests, 0],
      ],
    );
    run.serving.forEach((level, i) => {
      const own = prompts.slice(1 + i * requests, 1 + (i + 1) * requests);
      const counts = own.map((p) => tokenizer.encode(p).length);
      assert.equal(level.meanPromptTokens, counts.reduce((s, n) => s + n, 0) / requests, `level ${level.concurrency}`);
      assert.ok(level.meanOutputTokens > 1 && level.meanOutputTokens <= 12, String(level.meanOutputTokens));
      for (const key of ['timeToFirstTokenMs', 'timePerOutputTokenMs', 'interTokenLatencyMs', 'requestLatencyMs']) {
        const s = level[key];
        assert.ok(s.median > 0 && s.p90 >= s.median && s.p99 >= s.p90, `${key} ${JSON.stringify(s)}`);
      }
      assert.ok(level.requestLatencyMs.median > level.timeToFirstTokenMs.median);
      assert.ok(level.outputTokensPerSecond > 0 && level.requestsPerSecond > 0);
    });

    // transformers serve refuses fields outside the OpenAI API: ignore_eos comes back as its 422, named.
    const refused = benchmark(base, ['--concurrency', '1', '--requests', '1', '--ignore-eos']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /warm-up request to .*\/completions failed: HTTP 422 .*ignore_eos/);
  },
);
