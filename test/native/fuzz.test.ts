// The libFuzzer harnesses (native/fuzz/) under ASan + UBSan: they build, every corpus input (the seeds and the
// regression inputs of fixed crashes) replays clean, and a short run of each harness finds nothing. Longer runs:
// native/fuzz/run.sh <seconds>. Needs clang with its sanitizer runtimes; skips without them, fails under CI=true.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');
const fuzzDir = path.join(root, 'native', 'fuzz');
const binDir = path.join(root, 'native', 'build-fuzz');
const harnesses = ['safetensors', 'index', 'json', 'gptq', 'awq', 'bnb4', 'bnb8', 'checkpoint_config', 'ct'];

const hasClang = spawnSync('clang++', ['--version']).status === 0;
const skip = hasClang ? false : 'clang++ is missing; install it with: apt-get install clang libclang-rt-14-dev';
if (skip && process.env.CI === 'true') throw new Error(skip);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-fuzz-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

test('the harnesses build', { skip, timeout: 15 * 60_000 }, () => {
  const r = spawnSync('bash', [path.join(fuzzDir, 'build.sh')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const h of harnesses) assert.ok(fs.existsSync(path.join(binDir, `fuzz_${h}`)), `fuzz_${h} was not built`);
});

for (const h of harnesses) {
  test(`every ${h} corpus input replays clean`, { skip, timeout: 120_000 }, () => {
    const corpus = path.join(fuzzDir, 'corpus', h);
    const inputs = fs.readdirSync(corpus).map((f) => path.join(corpus, f));
    assert.ok(inputs.length >= 2, `${corpus} holds seeds`);
    const r = spawnSync(path.join(binDir, `fuzz_${h}`), inputs, { encoding: 'utf8', cwd: scratch });
    assert.equal(r.status, 0, r.stderr.slice(-4000));
    assert.equal(r.stderr.match(/^Executed /gm)?.length, inputs.length, r.stderr.slice(-4000));
  });
}

test('a short run of every harness finds nothing', { skip, timeout: 120_000 }, () => {
  const r = spawnSync('bash', [path.join(fuzzDir, 'run.sh'), '3'], { encoding: 'utf8', env: { ...process.env, FUZZ_OUT: scratch } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(/\s+/)[0]),
    harnesses,
  );
  for (const line of lines) assert.match(line, /execs [1-9]\d* +cov: \d+ ft: \d+ +new inputs \d+ +crashes 0$/, line);
});
