// The engine's thread pool (native/src/core/thread_pool.*) under ThreadSanitizer: native/stress/thread_pool_stress.cc
// built with g++ -fsanitize=thread and run with fewer, as many and more threads than the machine has cores (so
// workers are descheduled mid-region, fall asleep between regions and are woken). A data race, a lost wake-up (a
// hang, caught by the timeout), an index run twice or never, or an exception not rethrown fails it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-pool-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
const binary = path.join(scratch, 'thread_pool_stress');

// g++ links ThreadSanitizer's runtime from libtsan (Debian: part of g++'s dependencies); without it the test skips.
const probe = path.join(scratch, 'probe.cc');
fs.writeFileSync(probe, 'int main() { return 0; }\n');
const hasTsan = spawnSync('g++', ['-fsanitize=thread', probe, '-o', path.join(scratch, 'probe')]).status === 0;
const skip = hasTsan ? false : 'g++ cannot link ThreadSanitizer (install libtsan2, or the g++ package that brings it)';
if (skip && process.env.CI === 'true') throw new Error(skip);

test('the stress program builds with ThreadSanitizer', { skip, timeout: 120_000 }, () => {
  const src = path.join(root, 'native', 'src');
  const r = spawnSync(
    'g++',
    [
      '-std=c++17',
      '-O1',
      '-g',
      '-fsanitize=thread',
      `-I${src}`,
      path.join(root, 'native', 'stress', 'thread_pool_stress.cc'),
      path.join(src, 'core', 'thread_pool.cc'),
      '-o',
      binary,
      '-lpthread',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
});

for (const threads of [2, os.availableParallelism(), 2 * os.availableParallelism() + 1]) {
  test(`${threads} threads: every index once, exceptions rethrown, nested regions inline, no race`, { skip, timeout: 120_000 }, () => {
    const r = spawnSync(binary, [String(threads), '3000'], {
      encoding: 'utf8',
      timeout: 100_000,
      env: { ...process.env, TSAN_OPTIONS: 'halt_on_error=1:exitcode=66' },
    });
    assert.equal(r.signal, null, `killed by ${r.signal} (a hang?)`);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr.slice(-4000)}`);
    assert.equal(r.stdout.trim(), 'ok 3000');
  });
}
