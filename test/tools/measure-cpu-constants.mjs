#!/usr/bin/env node
// Measures the constants of native/model/cpuEngineConstants.ts on this machine and prints them as the
// table's values (run after `npm run build`; under a minute):
//  - processBaselineBytes: median peak RSS of three generate jobs (27-token prompt, 64 new tokens) through
//    the job runner on a 0.6M-parameter random Llama, less everything else the CPU estimate predicts for it;
//  - tokenizerBytesPerFileByte: RSS growth while tiny-llama's tokenizer.json is parsed and built, per byte;
//  - measuringProcessBaselineBytes: median forward-phase peak (batch 1, 30 tokens) of three benchmark jobs on
//    that model, less the estimate's other terms for it;
//  - perThreadBytes: peak growth per engine thread between 1 and 16 threads, less the kernel panels.
// mappedWindowBytes is not measured: it is the kernel's fault-around size (see the table's comment).
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRandomLlama } from './random-llama.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startJob } = require(join(root, 'out', 'client', 'src', 'jobs', 'runner.js'));
const model = require(join(root, 'out', 'native', 'model', 'index.js'));

export const MICRO_LLAMA = {
  name: 'micro-llama',
  hidden: 64,
  intermediate: 128,
  layers: 1,
  heads: 2,
  kvHeads: 1,
  headDim: 32,
  vocab: 4096,
  seed: 7,
};
export const GENERATE_PROMPT = "ROMEO: Is the day so young? O, I am fortune's fool, and yet I know not why I am so sad.";
const MiB = 2 ** 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function generatePeak(folder, threads) {
  const saved = process.env.QUANTSTUDIO_THREADS;
  if (threads === undefined) delete process.env.QUANTSTUDIO_THREADS;
  else process.env.QUANTSTUDIO_THREADS = String(threads);
  try {
    const r = await startJob({ kind: 'generate', model: folder, options: { prompt: GENERATE_PROMPT, maxTokens: 64 } });
    return { peak: r.metrics.peakRssBytes, promptTokens: r.metrics.promptTokens, threads: r.environment.threads };
  } finally {
    if (saved === undefined) delete process.env.QUANTSTUDIO_THREADS;
    else process.env.QUANTSTUDIO_THREADS = saved;
  }
}

/** Runs a snippet in a fresh Node process in the repository (so its packages resolve) and parses its last line. */
function inFreshNode(source) {
  const out = execFileSync(process.execPath, ['-e', source], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

/** A /proc/self/status field in bytes, as source for inFreshNode. */
const statusField = String.raw`(k) => 1024 * Number(require('fs').readFileSync('/proc/self/status', 'utf8').split(/\n/).find((l) => l.startsWith(k + ':')).split(/\s+/)[1])`;

function tokenizerPerByte() {
  const file = join(root, 'examples', 'tiny-llama', 'tokenizer.json');
  const growth = [0, 1, 2].map(() =>
    inFreshNode(`
    const field = ${statusField};
    const { TextTokenizer } = require('./out/native/lib/tokenizer.js');
    const before = field('VmRSS');
    TextTokenizer.load('examples/tiny-llama').encode('warm up');
    console.log(JSON.stringify(field('VmHWM') - before));`),
  );
  return median(growth) / statSync(file).size;
}

async function measuringPeak(folder) {
  const r = await startJob({
    kind: 'benchmark',
    model: folder,
    options: { batchSizes: [1], promptLength: 30, generate: { promptTokens: 30, newTokens: [2] }, evaluate: false },
  });
  const forward = r.rows.find((row) => row.phase === 'forward');
  return { peak: forward.peakMemoryBytes, promptTokens: forward.promptTokens, threads: r.environment.threads };
}

const micro = ensureRandomLlama(MICRO_LLAMA);
const resolved = await model.resolveModel(micro, { env: {} });
if (!resolved.ok) throw new Error(model.formatModelError(resolved.error));
const microModel = resolved.model;
const tokenizerBytes = statSync(join(micro, 'tokenizer.json')).size;
const tokenizerBytesPerFileByte = tokenizerPerByte();
const { mappedWindowBytes } = model.CPU_ENGINE_CONSTANTS;

const predicted = (constants, threads, promptTokens, options = { newTokens: 64, tokenizerBytes }) => {
  const e = model.estimateCpuMemory(microModel, undefined, { batch: 1, promptTokens, threads, constants, ...options });
  if (!e.ok) throw new Error(model.formatModelError(e.error));
  return e.value.peakBytes;
};

const one = [await generatePeak(micro, 1), await generatePeak(micro, 1), await generatePeak(micro, 1)];
const many = [await generatePeak(micro, 16), await generatePeak(micro, 16), await generatePeak(micro, 16)];
const promptTokens = one[0].promptTokens;
const zero = { processBaselineBytes: 0, measuringProcessBaselineBytes: 0, tokenizerBytesPerFileByte, perThreadBytes: 0, mappedWindowBytes };
// Panels and scratch the estimate already counts per thread: the difference of its 16- and 1-thread figures.
const modelledPerThread = (predicted(zero, 16, promptTokens) - predicted(zero, 1, promptTokens)) / 15;
const perThreadBytes = Math.max(0, (median(many.map((r) => r.peak)) - median(one.map((r) => r.peak))) / 15 - modelledPerThread);

const usual = [await generatePeak(micro), await generatePeak(micro), await generatePeak(micro)];
const threads = usual[0].threads;
const processBaselineBytes = median(usual.map((r) => r.peak)) - predicted({ ...zero, perThreadBytes }, threads, promptTokens);
const measuring = [await measuringPeak(micro), await measuringPeak(micro), await measuringPeak(micro)];
const measuringProcessBaselineBytes =
  median(measuring.map((r) => r.peak)) -
  predicted({ ...zero, perThreadBytes }, measuring[0].threads, measuring[0].promptTokens, {
    newTokens: 0,
    tokenizerBytes: 0,
    process: 'measuring',
  });

console.log(
  `measured on ${threads} engine threads (peaks: 1 thread ${one.map((r) => (r.peak / MiB).toFixed(2)).join(', ')} MiB; 16 threads ${many.map((r) => (r.peak / MiB).toFixed(2)).join(', ')} MiB; default ${usual.map((r) => (r.peak / MiB).toFixed(2)).join(', ')} MiB)`,
);
console.log(
  JSON.stringify(
    {
      processBaselineBytes: `${(processBaselineBytes / MiB).toFixed(1)} * 2 ** 20`,
      measuringProcessBaselineBytes: `${(measuringProcessBaselineBytes / MiB).toFixed(1)} * 2 ** 20`,
      tokenizerBytesPerFileByte: Number(tokenizerBytesPerFileByte.toFixed(1)),
      perThreadBytes: `${Math.round(perThreadBytes / 1024)} * 2 ** 10`,
    },
    null,
    2,
  ),
);
