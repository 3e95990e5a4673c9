#!/usr/bin/env node
// The quantize job's predicted time (native/model/estimateQuantizeTime.ts, priced by native/model/quantizeSpeed.ts)
// against real GPTQ jobs run through the job runner at one engine thread: tiny-llama with 128 × 256 calibration
// tokens and the 349M random Llama (test/tools/random-llama.mjs) with 4 × 128 and 16 × 256 (and GPTAQ at 16 × 256, and
// mixedPrecision's measurement and signRound's tuning at 4 × 128), and AWQ on that model
// with 4 × 128, and on the Qwen3-30B-A3B shape cut to 2 layers (128 experts) with 16 × 256 (with fewer tokens some
// expert gets none and GPTQModel's fallback sends the whole gate/up group to RTN, skipping its search). Time is compared as
// CPU time (the worker's quantizeCpuSeconds against the prediction at one thread, where wall time is CPU time): a
// loaded machine stretches wall time more than the CPU time a job needs, though a core shared with other work still
// slows the kernels that run from memory. The speed table comes from other runs (test/tools/measure-quantize-speed.mjs),
// so a different machine, or this one on a slower host, shows here as a ratio away from 1: re-measure the table there.
// Target per row: predicted / measured CPU time within 0.7–1.3. Each row reports the load average beside it.
// Last stdout line: {"name": "quantize-time", "results": [...]}; every figure in bench-results/quantize-time.json.
// Arguments: `tiny` runs tiny-llama only.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRandomLlama, ensureRealShape } from '../tools/random-llama.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startJob } = require(join(root, 'out', 'client', 'src', 'jobs', 'runner.js'));
const { predictQuantizeJob } = require(join(root, 'out', 'native', 'worker', 'memoryCheck.js'));

const TARGET = 0.3;
const GPTQ = { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true };
const GPTAQ = { ...GPTQ, bits: 3, gptaq: { alpha: 0.25 } };
const AWQ = { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' };
const oneThread = { ...process.env, QUANTSTUDIO_THREADS: '1' };
const log = (line) => process.stderr.write(`${line}\n`);
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

async function measure(label, model, calibration, config = GPTQ, options = {}) {
  const out = mkdtempSync(join(tmpdir(), 'qs-quantize-time-'));
  const job = { kind: 'quantize', model, config, options: { out: join(out, 'model'), overwrite: true, calibration, ...options } };
  try {
    log(`quantize-time: ${label} …`);
    const predicted = await predictQuantizeJob(job, model, oneThread);
    if (!predicted?.time.ok) throw new Error(`no time predicted for ${label}`);
    const loadBefore = loadAverage();
    const r = await startJob(job, { threads: 1 });
    const seconds = r.metrics.quantizeCpuSeconds;
    const ratio = predicted.time.value.seconds / seconds;
    const load = `${loadBefore.toFixed(2)}–${loadAverage().toFixed(2)}`;
    log(
      `  predicted ${predicted.time.value.seconds.toFixed(1)} s, measured ${seconds.toFixed(1)} s CPU (wall ${r.metrics.quantizeSeconds.toFixed(1)} s), ratio ${ratio.toFixed(3)}, load ${load}`,
    );
    return {
      label,
      predictedSeconds: predicted.time.value.seconds,
      cpuSeconds: seconds,
      wallSeconds: r.metrics.quantizeSeconds,
      ratio,
      load,
      pass: Math.abs(ratio - 1) <= TARGET,
      phases: predicted.time.value.phases,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const rows = [await measure('tiny-llama GPTQ 4-bit g128 (128×256)', join(root, 'examples', 'tiny-llama'), { nsamples: 128, seqlen: 256 })];
if (!process.argv.includes('tiny')) {
  const big = ensureRandomLlama();
  rows.push(
    await measure('random Llama 349M GPTQ 4-bit g128 (4×128)', big, { nsamples: 4, seqlen: 128 }),
    await measure('random Llama 349M GPTQ 4-bit g128 (16×256)', big, { nsamples: 16, seqlen: 256 }),
    await measure('random Llama 349M GPTQ 3-bit g128 + GPTAQ 0.25 (16×256)', big, { nsamples: 16, seqlen: 256 }, GPTAQ),
    await measure(
      'random Llama 349M GPTQ 3-bit g128, mixedPrecision 3.5 bits per weight measured on 4 windows (4×128)',
      big,
      { nsamples: 4, seqlen: 128 },
      { ...GPTQ, bits: 3 },
      { mixedPrecision: { bitsPerWeight: 3.5, samples: 4 } },
    ),
    await measure(
      'random Llama 349M GPTQ 3-bit g128 asym, signRound 10 iterations of 2 windows per layer (4×128)',
      big,
      { nsamples: 4, seqlen: 128 },
      { ...GPTQ, bits: 3, sym: false },
      { signRound: { iters: 10, batchSize: 2 } },
    ),
    await measure('random Llama 349M AWQ 4-bit g128 (4×128)', big, { nsamples: 4, seqlen: 128 }, AWQ),
    await measure(
      'Qwen3-30B-A3B shape, 2 layers, AWQ 4-bit g128 (16×256)',
      ensureRealShape('qwen3-30b-a3b-2l'),
      { nsamples: 16, seqlen: 256 },
      AWQ,
    ),
  );
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'quantize-time.json'), JSON.stringify(rows, null, 2) + '\n');
console.log(
  JSON.stringify({
    name: 'quantize-time',
    results: rows.map((r) => ({
      metric: `${r.label} predicted/measured CPU time (load ${r.load})`,
      value: r.ratio,
      unit: 'ratio',
      target: `1 ± ${TARGET}`,
      pass: r.pass,
    })),
  }),
);
