// A job dies with the CLI that started it. `quantstudio quantize` on the bundled tiny model is killed while
// the engine computes a layer: after kill -9 the worker is gone within seconds and no output ever appears (it
// used to run on and move its output into place half a minute later), and the next job into the same place
// removes the staging folder the killed worker left. SIGTERM and SIGHUP cancel like Ctrl+C (SIGINT), with the
// same message. The kernel's watch (PR_SET_PDEATHSIG) also ends a worker whose event loop is blocked — here by
// tokenizing a 5 MB calibration text, seconds of synchronous work — where the IPC 'disconnect' is not seen
// until the work is done. Linux: the worker is found through /proc.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { wikitext2ValidPath } from '../../native/lib';
import { quantstudio, repoRoot } from '../helpers/cli';
import { isRunning } from '../../native/model';

const temp = mkdtempSync(join(tmpdir(), 'qs-parent-death-'));
const configFile = join(temp, 'quantize_config.json');
writeFileSync(configFile, JSON.stringify({ quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true }));
const linux = process.platform === 'linux';

interface Started {
  cli: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startQuantize(out: string, algorithm?: string, calib?: string): Started {
  const args = ['quantize', '--model', join(repoRoot, 'examples', 'tiny-llama'), '--config', configFile, '--out', out];
  args.push(...(algorithm ? ['--algorithm', algorithm] : []), ...(calib ? ['--calib', calib] : []));
  const cli = spawn(process.execPath, [join(repoRoot, 'client', 'bin', 'quantstudio.js'), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  cli.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  cli.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    cli.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { cli, stderr: () => stderr, exited };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function workerOf(cliPid: number): number | undefined {
  const children = readFileSync(`/proc/${cliPid}/task/${cliPid}/children`, 'utf8').trim();
  return children ? Number(children.split(/\s+/)[0]) : undefined;
}

/** Starts a GPTQ quantize and waits until the engine is computing the first layer; returns the worker's pid. */
async function midLayer(job: Started): Promise<number> {
  await until('the calibrate phase', () => (job.stderr().includes('calibrate') ? true : undefined), 60_000);
  await new Promise((r) => setTimeout(r, 300)); // inside the native pipeline: a layer takes seconds
  assert.ok(!job.stderr().includes('layer 1/'), 'still on the first layer');
  return await until('the worker', () => workerOf(job.cli.pid!), 5000);
}

describe('a job dies with its CLI', { skip: !linux && 'reads /proc' }, () => {
  after(() => rmSync(temp, { recursive: true, force: true }));

  it('kill -9 of the CLI mid-layer: the worker is gone within seconds, no output appears, the next job removes the staging folder', async () => {
    const out = join(temp, 'killed');
    const job = startQuantize(out);
    const worker = await midLayer(job);
    job.cli.kill('SIGKILL');
    await job.exited;
    await until('the worker to end', () => (isRunning(worker) ? undefined : true), 3000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(existsSync(out), false, 'no output folder');
    const left = readdirSync(temp).filter((n) => n.startsWith('killed.tmp-'));
    assert.deepEqual(left, [`killed.tmp-${worker}`], 'the killed worker left its staging folder');

    const next = quantstudio([
      'quantize',
      '--model',
      join(repoRoot, 'examples', 'tiny-llama'),
      '--config',
      configFile,
      '--out',
      out,
      '--algorithm',
      'rtn',
    ]);
    assert.equal(next.status, 0, next.stderr);
    assert.ok(existsSync(join(out, 'config.json')));
    assert.deepEqual(
      readdirSync(temp).filter((n) => n.startsWith('killed.tmp-')),
      [],
      'the next job removed the leftover',
    );
  });

  it('kill -9 of the CLI while the worker is blocked in synchronous work: the worker is gone within a second, no output ever appears', async () => {
    const calib = join(temp, 'calibration-5x.txt');
    writeFileSync(calib, readFileSync(wikitext2ValidPath(), 'utf8').repeat(5));
    const out = join(temp, 'blocked');
    const job = startQuantize(out, undefined, calib);
    await until('the tokenize phase', () => (job.stderr().includes('tokenize') ? true : undefined), 60_000);
    const worker = await until('the worker', () => workerOf(job.cli.pid!), 5000);
    await new Promise((r) => setTimeout(r, 300)); // tokenizing 5 MB takes the worker's event loop for seconds
    assert.ok(!job.stderr().includes('calibrate'), 'still tokenizing');
    job.cli.kill('SIGKILL');
    await job.exited;
    await until('the worker to end', () => (isRunning(worker) ? undefined : true), 1000);
    await new Promise((r) => setTimeout(r, 3000)); // long enough for a surviving worker to finish tokenizing and write
    assert.equal(existsSync(out), false, 'no output folder');
  });

  it('SIGTERM and SIGHUP cancel like SIGINT: the same message, the worker gone, no output', async () => {
    const outcomes: { signal: string; code: number | null; message: string }[] = [];
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const out = join(temp, `signal-${signal}`);
      const job = startQuantize(out);
      const worker = await midLayer(job);
      job.cli.kill(signal);
      const { code } = await job.exited;
      await until(`the worker to end after ${signal}`, () => (isRunning(worker) ? undefined : true), 3000);
      assert.equal(existsSync(out), false, `no output after ${signal}`);
      assert.deepEqual(
        readdirSync(temp).filter((n) => n.startsWith(`signal-${signal}`)),
        [],
        `no staging folder after ${signal}`,
      );
      outcomes.push({ signal, code, message: job.stderr().trim().split('\n').at(-1) ?? '' });
    }
    assert.match(outcomes[0]!.message, /^quantstudio quantize: the job was cancelled/);
    for (const outcome of outcomes)
      assert.deepEqual(
        { code: outcome.code, message: outcome.message },
        { code: outcomes[0]!.code, message: outcomes[0]!.message },
        outcome.signal,
      );
  });
});
