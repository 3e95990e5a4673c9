#!/usr/bin/env node
// The quantize job's memory estimate (native/model/estimateCpuQuantize.ts) against the worker's real peak RSS:
// GPTQ, RTN and NF4 on tiny-llama (GPTQ with 128 windows of 256 tokens) and on the 349M random Llama (GPTQ
// with 16 windows, so the run stays within minutes on a small machine), and GPTQ (4 × 128), AWQ (16 × 256) and NF4 on
// the Qwen3-30B-A3B shape cut to 2 layers (128 experts), run through the job runner like the editor runs them.
// Target per row: predicted / measured within 0.90–1.10 (the pre-job check in native/worker/memoryCheck.ts compares
// the unmapped part of this prediction with the machine's memory).
// Last stdout line: {"name": "quantize-memory", "results": [...]}; every figure in bench-results/quantize-memory.json.
// Arguments: `tiny` runs tiny-llama only.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRandomLlama, ensureRealShape } from '../tools/random-llama.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startJob } = require(join(root, 'out', 'client', 'src', 'jobs', 'runner.js'));
const { predictJobMemory } = require(join(root, 'out', 'native', 'worker', 'memoryCheck.js'));

const MiB = 2 ** 20;
const TARGET = 0.1;
const GPTQ = { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true };
const AWQ = { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' };
const NF4 = { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' };
const log = (line) => process.stderr.write(`${line}\n`);

async function measure(label, model, config, options) {
  const out = mkdtempSync(join(tmpdir(), 'qs-quantize-memory-'));
  const job = { kind: 'quantize', model, config, options: { out: join(out, 'model'), overwrite: true, ...options } };
  try {
    log(`quantize-memory: ${label} …`);
    const r = await startJob(job);
    const predicted = await predictJobMemory(job, model);
    const measured = r.metrics.peakRssBytes;
    const ratio = predicted.peakBytes / measured;
    const unmappedBytes = predicted.peakBytes - predicted.mappedBytes;
    log(
      `  predicted ${(predicted.peakBytes / MiB).toFixed(1)} MiB (${(unmappedBytes / MiB).toFixed(1)} unmapped), measured ${(measured / MiB).toFixed(1)} MiB, ratio ${ratio.toFixed(3)}`,
    );
    const pass = Math.abs(ratio - 1) <= TARGET;
    return {
      label,
      predictedBytes: predicted.peakBytes,
      unmappedBytes,
      measuredBytes: measured,
      ratio,
      pass,
      threads: r.environment.threads,
      breakdown: predicted.breakdown,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const tinyLlama = join(root, 'examples', 'tiny-llama');
const rows = [
  await measure('tiny-llama GPTQ 4-bit (128×256)', tinyLlama, GPTQ, {}),
  await measure('tiny-llama RTN 4-bit', tinyLlama, GPTQ, { algorithm: 'rtn' }),
  await measure('tiny-llama NF4', tinyLlama, NF4, {}),
];
if (!process.argv.includes('tiny')) {
  const big = ensureRandomLlama();
  rows.push(
    await measure('random Llama 349M GPTQ 4-bit (16×256)', big, GPTQ, { calibration: { nsamples: 16, seqlen: 256 } }),
    await measure('random Llama 349M RTN 4-bit', big, GPTQ, { algorithm: 'rtn' }),
    await measure('random Llama 349M NF4', big, NF4, {}),
  );
  const moe = ensureRealShape('qwen3-30b-a3b-2l');
  // AWQ with 16 × 256: with fewer tokens some expert gets none and the gate/up group falls back to RTN (GPTQModel 7.7's
  // rule), so its search, which the estimate counts, never runs.
  const short = { calibration: { nsamples: 4, seqlen: 128 } };
  const reached = { calibration: { nsamples: 16, seqlen: 256 } };
  rows.push(
    await measure('Qwen3-30B-A3B shape, 2 layers, GPTQ 4-bit (4×128)', moe, GPTQ, short),
    await measure('Qwen3-30B-A3B shape, 2 layers, AWQ 4-bit (16×256)', moe, AWQ, reached),
    await measure('Qwen3-30B-A3B shape, 2 layers, NF4', moe, NF4, {}),
  );
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'quantize-memory.json'), JSON.stringify(rows, null, 2) + '\n');
console.log(
  JSON.stringify({
    name: 'quantize-memory',
    results: rows.map((r) => ({
      metric: `${r.label} predicted/measured peak RSS`,
      value: r.ratio,
      unit: 'ratio',
      target: `1 ± ${TARGET}`,
      pass: r.pass,
    })),
  }),
);
