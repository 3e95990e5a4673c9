// Before a job starts, its predicted peak memory is checked against what the machine has: with
// QUANTSTUDIO_MEMORY_AVAILABLE capping "available" below the prediction, quantize and generate jobs fail at
// once with both figures and the way to override, before any work (no tokenizing, no output, no staging
// folder); QUANTSTUDIO_MEMORY_CHECK=off runs the same job. Available memory is MemAvailable on Linux.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { wikitext2ValidPath } from '../../native/lib';
import { humanBytes, WIKITEXT2_VALID_BYTES } from '../../native/model';
import { quantizePreflight } from '../../client/src/jobs/quantizePreflight';
import { availableMemory, predictJobMemory, predictQuantizeJob } from '../../native/worker/memoryCheck';
import { quantstudio, repoRoot } from '../helpers/cli';

const demo = join(repoRoot, 'examples', 'tiny-llama');
const temp = mkdtempSync(join(tmpdir(), 'qs-memory-check-'));
const GPTQ = { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true };
const configFile = join(temp, 'quantize_config.json');
writeFileSync(configFile, JSON.stringify(GPTQ));
const MiB = 2 ** 20;
const capped = (bytes: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  QUANTSTUDIO_MEMORY_AVAILABLE: String(bytes),
  ...extra,
});

describe('the memory check before a job', () => {
  after(() => rmSync(temp, { recursive: true, force: true }));

  it('refuses a GPTQ quantize that needs more than is available, before any work, naming both figures and the override', async () => {
    const out = join(temp, 'refused');
    const run = quantstudio(['quantize', '--model', demo, '--config', configFile, '--out', out], repoRoot, capped(50 * MiB));
    assert.notEqual(run.status, 0);
    const predicted = await predictJobMemory({ kind: 'quantize', model: demo, config: GPTQ, options: { out } }, demo);
    assert.ok(predicted && predicted.mappedBytes !== undefined);
    const needed = humanBytes(predicted.peakBytes - predicted.mappedBytes);
    assert.equal(
      run.stderr.trim().split('\n').at(-1),
      `quantstudio quantize: this quantize job needs about ${needed} of memory at its peak (besides ` +
        `${humanBytes(predicted.mappedBytes)} of model files it maps, which the system can page), and 50.0 MiB is available (QUANTSTUDIO_MEMORY_AVAILABLE); ` +
        'free memory or use a smaller calibration set (calibration.nsamples, calibration.seqlen). To run it anyway, set QUANTSTUDIO_MEMORY_CHECK=off.',
    );
    assert.ok(!run.stderr.includes('tokenize'), 'no work started');
    assert.deepEqual(
      readdirSync(temp).filter((n) => n.startsWith('refused')),
      [],
      'no output and no staging folder',
    );
  });

  it('counts the calibration set: fewer windows need less, and the same cap then lets the job run', async () => {
    const job = (nsamples: number) => ({
      kind: 'quantize' as const,
      model: demo,
      config: GPTQ,
      options: { out: join(temp, 'x'), calibration: { nsamples, seqlen: 256 } },
    });
    const big = await predictJobMemory(job(128), demo);
    const small = await predictJobMemory(job(8), demo);
    assert.ok(big && small && big.peakBytes > small.peakBytes);
    const cap = small.peakBytes - small.mappedBytes! + 5 * MiB;
    const jobFile = join(temp, 'small.quant.json');
    writeFileSync(
      jobFile,
      JSON.stringify({ model: demo, quantization_config: GPTQ, calibration: { nsamples: 8, seqlen: 256 }, output: 'small' }),
    );
    const run = quantstudio(['quantize', jobFile], repoRoot, capped(cap));
    assert.equal(run.status, 0, run.stderr);
    assert.ok(existsSync(join(temp, 'small', 'model.safetensors')));
  });

  it('QUANTSTUDIO_MEMORY_CHECK=off runs a job the check would refuse', () => {
    const out = join(temp, 'override');
    const refused = quantstudio(
      ['quantize', '--model', demo, '--config', configFile, '--out', out, '--algorithm', 'rtn'],
      repoRoot,
      capped(MiB),
    );
    assert.match(refused.stderr, /this quantize job needs about [\d.]+ MiB of memory at its peak .* and 1\.0 MiB is available/);
    const run = quantstudio(
      ['quantize', '--model', demo, '--config', configFile, '--out', out, '--algorithm', 'rtn'],
      repoRoot,
      capped(MiB, { QUANTSTUDIO_MEMORY_CHECK: 'off' }),
    );
    assert.equal(run.status, 0, run.stderr);
    assert.ok(existsSync(join(out, 'model.safetensors')));
  });

  it("Quantize Model…'s pre-flight shows the worker's figures and refuses with the worker's message, before any job", async () => {
    const out = join(temp, 'preflight');
    const job = { kind: 'quantize' as const, model: demo, config: GPTQ, options: { out, calibration: { nsamples: 16, seqlen: 256 } } };
    const worker = await predictQuantizeJob(job, demo, capped(50 * MiB, { QUANTSTUDIO_THREADS: '2' }));
    const refused = await quantizePreflight(job, 2, undefined, capped(50 * MiB));
    assert.ok(worker && refused);
    assert.deepEqual(refused.estimate, worker);
    assert.equal(refused.fit.fits, false);
    const run = quantstudio(['quantize', '--model', demo, '--config', configFile, '--out', out], repoRoot, capped(50 * MiB));
    const needed = humanBytes(refused.fit.needed);
    assert.ok(refused.fit.message?.startsWith(`this quantize job needs about ${needed} of memory at its peak`), refused.fit.message);
    assert.match(run.stderr, /this quantize job needs about [\d.]+ MiB of memory at its peak/);
    assert.match(
      refused.summary,
      /^≈ [\d.]+ MiB peak RSS · ≈ [\d.]+ (s|min) on 2 threads; 50\.0 MiB available \(QUANTSTUDIO_MEMORY_AVAILABLE\)$/,
    );
    const off = await quantizePreflight(job, 2, undefined, capped(50 * MiB, { QUANTSTUDIO_MEMORY_CHECK: 'off' }));
    assert.equal(off?.checked, false, 'QUANTSTUDIO_MEMORY_CHECK=off: shown, not refused');
    // 'wikitext2' is priced by the bundled file's size, which the job tokenizes
    assert.equal(WIKITEXT2_VALID_BYTES, statSync(wikitext2ValidPath()).size);
    const fits = await quantizePreflight(job, 2);
    assert.equal(fits?.fit.fits, true);
    assert.ok(!existsSync(out), 'nothing written');
  });

  it('refuses a generate job the same way', () => {
    const run = quantstudio(['generate', '--model', demo, '--prompt', 'ROMEO:', '--max-tokens', '4'], repoRoot, capped(10 * MiB));
    assert.notEqual(run.status, 0);
    assert.match(
      run.stderr,
      /this generate job needs about [\d.]+ MiB of memory at its peak \(besides [\d.]+ MiB of model files it maps, which the system can page\), and 10\.0 MiB is available/,
    );
    assert.match(run.stderr, /free memory or use a smaller model or prompt\. To run it anyway, set QUANTSTUDIO_MEMORY_CHECK=off\./);
  });

  it(
    'available memory is MemAvailable, lowered (never raised) by QUANTSTUDIO_MEMORY_AVAILABLE',
    { skip: process.platform !== 'linux' && 'reads /proc/meminfo' },
    () => {
      const memAvailable = 1024 * Number(/^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
      const found = availableMemory({});
      assert.equal(found.source, 'MemAvailable in /proc/meminfo');
      assert.ok(Math.abs(found.bytes - memAvailable) < 256 * MiB, `${found.bytes} vs ${memAvailable}`);
      assert.deepEqual(availableMemory({ QUANTSTUDIO_MEMORY_AVAILABLE: String(MiB) }), {
        bytes: MiB,
        source: 'QUANTSTUDIO_MEMORY_AVAILABLE',
      });
      assert.equal(availableMemory({ QUANTSTUDIO_MEMORY_AVAILABLE: String(2 ** 60) }).source, 'MemAvailable in /proc/meminfo');
    },
  );
});
