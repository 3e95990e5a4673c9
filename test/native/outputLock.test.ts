// One job at a time per output folder: a second job into a folder being written fails at once, naming the
// holder's pid, instead of both succeeding with the first result silently replaced; a dead job's lock is
// taken over.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { quantstudio, repoRoot } from '../helpers/cli';
import { removeDeadStaging, removeStagingLeftovers } from '../../client/src/jobs/leftovers';
import { OutputLock } from '../../native/worker/outputLock';

const scratch = mkdtempSync(join(tmpdir(), 'qs-output-lock-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const demo = join(repoRoot, 'examples', 'tiny-llama');
const bin = join(repoRoot, 'client', 'bin', 'quantstudio.js');

/** A pid no process has: one that ran and exited. */
function deadPid(): number {
  return spawnSync('true').pid as number;
}

test('the lock is taken, refused while its holder runs, taken over from a dead holder, released', (t) => {
  const out = join(scratch, 'unit');
  const sleeper = spawn('sleep', ['30']);
  t.after(() => sleeper.kill());
  writeFileSync(`${out}.lock`, `${sleeper.pid}\n`);
  assert.throws(
    () => OutputLock.acquire(out),
    (e: Error) => {
      assert.match(e.message, new RegExp(`output folder ${out} is being written by another job \\(pid ${sleeper.pid}\\)`));
      return true;
    },
  );
  writeFileSync(`${out}.lock`, `${deadPid()}\n`);
  const lock = OutputLock.acquire(out);
  assert.deepEqual(readdirSync(scratch), ['unit.lock']);
  lock.release();
  assert.deepEqual(readdirSync(scratch), []);
});

test('two quantize --overwrite jobs into one folder: the second fails at once, the first completes', async () => {
  const config = join(scratch, 'gptq.json');
  writeFileSync(config, JSON.stringify({ quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: false }));
  const out = join(scratch, 'busy');
  const args = ['quantize', '--model', demo, '--config', config, '--out', out, '--overwrite'];
  const first = spawn(process.execPath, [bin, ...args, '--calib', 'wikitext2'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  first.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => first.on('exit', resolve));
  while (!existsSync(`${out}.lock`)) {
    assert.equal(first.exitCode, null, `the first job ended before taking its lock: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const started = Date.now();
  const second = quantstudio(args);
  assert.notEqual(second.status, 0);
  assert.match(second.stderr, /is being written by another job \(pid \d+\)/);
  assert.ok(Date.now() - started < 5000, 'the second job fails at once');
  assert.equal(await exited, 0, stderr);
  assert.ok(existsSync(join(out, 'model.safetensors')));
  assert.ok(!existsSync(`${out}.lock`), 'the lock goes with the job');
});

test('a lock left by a killed job does not block the next one', () => {
  const out = join(scratch, 'stale');
  writeFileSync(`${out}.lock`, `${deadPid()}\n`);
  const config = join(scratch, 'rtn.json');
  writeFileSync(config, JSON.stringify({ quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: false }));
  const run = quantstudio(['quantize', '--model', demo, '--config', config, '--out', out, '--algorithm', 'rtn']);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(!existsSync(`${out}.lock`));
});

test("the runner removes the lock of a worker that died, and leaves a running job's lock alone", (t) => {
  const out = join(scratch, 'runner');
  const dead = deadPid();
  writeFileSync(`${out}.lock`, `${dead}\n`);
  removeStagingLeftovers(out, dead + 1);
  assert.ok(existsSync(`${out}.lock`), "another worker's lock stays");
  removeStagingLeftovers(out, dead);
  assert.ok(!existsSync(`${out}.lock`), "the exited worker's lock goes");

  const sleeper = spawn('sleep', ['30']);
  t.after(() => sleeper.kill());
  writeFileSync(`${out}.lock`, `${sleeper.pid}\n`);
  removeDeadStaging(out);
  assert.ok(existsSync(`${out}.lock`), 'a running job keeps its lock');
  writeFileSync(`${out}.lock`, `${dead}\n`);
  removeDeadStaging(out);
  assert.ok(!existsSync(`${out}.lock`), "a dead job's lock goes before the next job");
});
