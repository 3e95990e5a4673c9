#!/usr/bin/env node
// Measures native/model/quantizeSpeed.ts on this machine at one engine thread and prints the table's values
// (run after `npm run build`; about ten minutes, most of it the GPTQ job). CPU time, not wall time, is what is
// divided (process.cpuUsage of this process for in-process kernels, the worker's quantizeCpuSeconds for jobs), so
// other work on the machine stretches the run but not the figures. The units are quantizeWork's
// (native/model/estimateQuantizeTime.ts), so what is measured is priced exactly as the estimate counts it:
//  - tokenizeByte: the demo tokenizer over the bundled WikiText-2 validation text;
//  - hessianMac, updateMac: gptqQuantize on random 1024-wide linears, each from two runs that differ only in its
//    own unit (16384 against 512 tokens; 2816 against 64 rows, a gate/up shape), so the Cholesky factor cancels
//    (fitting all three at once over a few shapes let the Cholesky's error into the other two);
//  - choleskyCube: gptqQuantize on 64-row linears 1024 to 4096 wide, less their Hessian and updates, per cols³;
//  - ioByte: copying the 349M random Llama's weight file (a read and a write per byte);
//  - weightElement, bnbElement: RTN (GPTQ layout) and NF4 jobs on that model, their CPU time less reading and
//    writing, per weight;
//  - forwardFlop: GPTQ jobs of 8 × 256 and 4 × 128 calibration tokens on that model: the CPU time the longer one
//    adds, less the Hessians it adds as priced above, per forward FLOP it adds;
//  - awqFakeElement, awqGridMac, awqClipMac: awqSearchScales and awqQuantizeLinear on random 1024 × 1024 linears,
//    each from two runs that differ only in its unit (grids of 2 and 10 points over 8 tokens, then over 4096 tokens,
//    which score on XᵀX; the clip search on and off).
// `node test/tools/measure-quantize-speed.mjs awq` measures the AWQ units alone (a minute).
import { constants, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRandomLlama } from './random-llama.mjs';

process.env.QUANTSTUDIO_THREADS = '1'; // before the addon loads: its pool reads it once
const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startJob } = require(join(root, 'out', 'client', 'src', 'jobs', 'runner.js'));
const model = require(join(root, 'out', 'native', 'model', 'index.js'));
const lib = require(join(root, 'out', 'native', 'lib', 'index.js'));
const log = (line) => process.stderr.write(`${line}\n`);
const cpuSeconds = async (run) => {
  const start = process.cpuUsage();
  await run();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
};
const GPTQ = { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true };
const NF4 = { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' };

const random = (() => {
  let state = 12345;
  return (n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      a[i] = state / 2 ** 31 - 1;
    }
    return a;
  };
})();

// AWQ's search kernels, each unit from a pair of runs differing only in it.
async function measureAwq() {
  const rows = 1024;
  const cols = 1024;
  const w = random(rows * cols);
  const search = (tokens, scaleGrid) => {
    const x = random(tokens * cols);
    return cpuSeconds(() => lib.awqSearchScales([{ weight: w, rows }], cols, x, { scaleGrid }));
  };
  await search(8, 2); // warmed
  const awqFakeElement = ((await search(8, 10)) - (await search(8, 2))) / (8 * rows * cols);
  if (!model.useAwqGram(4096, rows, cols, 2)) throw new Error('the 4096-token search should score on XᵀX');
  const gridPair = (await search(4096, 10)) - (await search(4096, 2));
  const awqGridMac = (gridPair - 8 * rows * cols * awqFakeElement) / (8 * rows * cols * cols);
  const x = random(4096 * cols);
  const ones = new Float32Array(cols).fill(1);
  const quantize = (clip) => cpuSeconds(() => lib.awqQuantizeLinear(w, rows, cols, ones, x, clip));
  const plain = await quantize(false);
  const clipped = await quantize(true);
  const work = { awqGridMac: 0, awqFakeElement: 0, awqClipMac: 0 };
  model.addAwqLayerSearch(
    work,
    { linears: [{ input: 'o', expert: false, clip: true, rows, cols, skipped: false }], oFolds: false, attentionMacs: 0 },
    { samples: 1, seqLen: 4096 },
    128,
  );
  const awqClipMac = (clipped - plain) / work.awqClipMac;
  log(
    `awq: rounding ${(awqFakeElement * 1e9).toFixed(2)} ns/weight, grid ${(awqGridMac * 1e12).toFixed(2)} ps/MAC, clip ${(awqClipMac * 1e12).toFixed(1)} ps/MAC`,
  );
  return { awqGridMac, awqFakeElement, awqClipMac };
}
const printTable = (table) => {
  console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  for (const [k, v] of Object.entries(table))
    console.log(`  ${k}: ${Array.isArray(v) ? `[${v.map(([c, x]) => `[${c}, ${x.toExponential(3)}]`).join(', ')}]` : v.toExponential(3)},`);
};
if (process.argv[2] === 'awq') {
  printTable(await measureAwq());
  process.exit(0);
}

// Tokenizing.
const tokenizer = lib.TextTokenizer.load(join(root, 'examples', 'tiny-llama'));
const text = lib.calibrationTexts(lib.calibrationDefaults.dataset).texts.join('\n\n');
const textBytes = Buffer.byteLength(text, 'utf8');
const tokenizeByte = (await cpuSeconds(async () => tokenizer.encode(text, { addSpecialTokens: false }))) / textBytes;
log(`tokenize: ${(textBytes / 1e6).toFixed(2)} MB, ${(tokenizeByte * 1e9).toFixed(1)} ns/byte`);

// GPTQ's kernels: seconds = tokens·cols²·h + cols³·c + rows·cols²·u, each unit from a pair of runs differing in it.
const gptqSeconds = async (rows, cols, tokens) => {
  const w = random(rows * cols);
  const x = random(tokens * cols);
  const s = await cpuSeconds(() => lib.gptqQuantize(w, rows, cols, [x], { bits: 4, groupSize: 128 }));
  log(`gptq ${rows}×${cols}, ${tokens} tokens: ${s.toFixed(3)} s CPU`);
  return s;
};
await gptqSeconds(64, 1024, 512); // the engine's pool and allocations warmed
const base = await gptqSeconds(64, 1024, 512);
const hessianMac = ((await gptqSeconds(64, 1024, 16384)) - base) / ((16384 - 512) * 1024 ** 2);
const updateMac = ((await gptqSeconds(2816, 1024, 512)) - base) / ((2816 - 64) * 1024 ** 2);
// The inverse Cholesky per cols³ by width: a 64-row linear, less its Hessian and updates as fitted.
const choleskyCube = [];
for (const cols of [1024, 2048, 2816, 4096]) {
  const rows = 64;
  const tokens = 512;
  const s = await cpuSeconds(() => lib.gptqQuantize(random(rows * cols), rows, cols, [random(tokens * cols)], { bits: 4, groupSize: 128 }));
  choleskyCube.push([cols, (s - hessianMac * tokens * cols * cols - updateMac * rows * cols * cols) / cols ** 3]);
  log(`cholesky at ${cols}: ${s.toFixed(2)} s CPU`);
}

// Jobs on the 349M model.
const big = ensureRandomLlama(undefined, log);
const resolved = await model.resolveModel(big, { env: {} });
if (!resolved.ok) throw new Error(model.formatModelError(resolved.error));
async function job(config, options, algorithm) {
  const out = mkdtempSync(join(tmpdir(), 'qs-quantize-speed-'));
  try {
    log(`job ${algorithm} …`);
    const r = await startJob({ kind: 'quantize', model: big, config, options: { out: join(out, 'model'), overwrite: true, ...options } });
    const settings = model.quantSettingsOf(config, 'config');
    const work = model.quantizeWork(resolved.model, settings.value, {
      algorithm,
      samples: options.calibration?.nsamples ?? 0,
      seqLen: options.calibration?.seqlen ?? 0,
      trueSequential: true,
      threads: 1,
      calibrationTextBytes: algorithm === 'gptq' ? textBytes : 0,
    });
    log(`  ${r.metrics.quantizeCpuSeconds.toFixed(1)} s CPU (wall ${r.metrics.quantizeSeconds.toFixed(1)} s)`);
    return { work: work.value, cpu: r.metrics.quantizeCpuSeconds };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
// Reading the source and writing a file of its size: the page-cache work of mapping and of the writer, per byte.
const copy = join(mkdtempSync(join(tmpdir(), 'qs-quantize-speed-')), 'copy');
const source = join(big, 'model.safetensors');
const sourceBytes = statSync(source).size;
const ioByte = (await cpuSeconds(async () => copyFileSync(source, copy, constants.COPYFILE_EXCL))) / (2 * sourceBytes);
rmSync(dirname(copy), { recursive: true, force: true });
log(`copy: ${(sourceBytes / 1e6).toFixed(0)} MB, ${(ioByte * 1e9).toFixed(2)} ns/byte`);
// The direct step's seconds per weight: the job's CPU time less its reading and writing.
const perWeight = (d) => (d.cpu - ioByte * d.work.ioByte) / (d.work.weightElement + d.work.bnbElement);
const weightElement = perWeight(await job(GPTQ, { algorithm: 'rtn' }, 'rtn'));
const bnbElement = perWeight(await job(NF4, {}, 'nf4'));
// Two GPTQ jobs that differ only in their calibration tokens: what the forward adds per FLOP, less the Hessians as
// priced above (a difference, so errors in the per-linear phases, which both jobs pay alike, cancel).
const gptqShort = await job(GPTQ, { calibration: { nsamples: 4, seqlen: 128 } }, 'gptq');
const gptq = await job(GPTQ, { calibration: { nsamples: 8, seqlen: 256 } }, 'gptq');
const priced = { tokenizeByte, hessianMac, updateMac, weightElement, bnbElement, ioByte };
const others = (d) =>
  Object.entries(priced).reduce((a, [k, v]) => a + v * d.work[k], 0) +
  model.quantizeTime(d.work, 1, { ...model.QUANTIZE_SPEED, choleskyCube }).phases.find((p) => p.phase === 'choleskyCube').seconds;
const forwardFlop = (gptq.cpu - gptqShort.cpu - (others(gptq) - others(gptqShort))) / (gptq.work.forwardFlop - gptqShort.work.forwardFlop);
printTable({ forwardFlop, hessianMac, choleskyCube, updateMac, weightElement, bnbElement, ioByte, ...(await measureAwq()), tokenizeByte });
