#!/usr/bin/env node
// The CPU engine's memory estimate (native/model/estimateCpu.ts) against what the job workers really
// peak at: generate jobs (a 27-token prompt, 64 new tokens) and benchmark jobs (a forward pass then a
// generation, at batch 1 and 16, each variant measured in its own process) on tiny-llama and on a
// 349M-parameter random-weight Llama, each fp16 and GPTQ 4-bit, run through the job runner like the editor
// runs them. Target per row: predicted / measured peak RSS within 0.90–1.10.
// A benchmark row compares the measuring process's peak for one variant and batch size, not each phase's:
// a phase's own figure also holds what malloc kept from the phase before (its buffers freed, their pages
// not returned), which depends on the allocator's history rather than on the model.
// Checkpoints are written once into <XDG_CACHE_HOME or ~/.cache>/quantstudio-bench and reused.
// Last stdout line: {"name": "memory", "results": [...]}; every figure in bench-results/memory.json.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCacheDir, ensureRandomLlama, parameterCount } from '../tools/random-llama.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startJob } = require(join(root, 'out', 'client', 'src', 'jobs', 'runner.js'));
const { estimateCpuMemory, resolveModel, formatModelError } = require(join(root, 'out', 'native', 'model', 'index.js'));

const MiB = 2 ** 20;
const TARGET = 0.1;
const PROMPT = "ROMEO: Is the day so young? O, I am fortune's fool, and yet I know not why I am so sad.";
const NEW_TOKENS = 64;
const GPTQ_4BIT = { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true };
const log = (line) => process.stderr.write(`${line}\n`);

/** A quantized copy made by a real quantize job, cached beside the models with a stamp of how it was made. */
async function ensureQuantized(source, name, job) {
  const out = join(benchCacheDir(), name);
  const stamp = JSON.stringify({
    source,
    ...job,
    sourceStamp: existsSync(join(source, 'generator.json'))
      ? readFileSync(join(source, 'generator.json'), 'utf8')
      : statSync(join(source, 'model.safetensors')).mtimeMs,
  });
  const stampFile = join(out, 'bench-source.json');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return out;
  log(`memory: quantizing ${source} → ${out} (${job.algorithm}) …`);
  await startJob({
    kind: 'quantize',
    model: source,
    config: job.config,
    options: { out, overwrite: true, algorithm: job.algorithm, ...(job.calibration ? { calibration: job.calibration } : {}) },
  });
  writeFileSync(stampFile, stamp);
  return out;
}

async function predict(folder, options) {
  const resolved = await resolveModel(folder, { env: {} });
  if (!resolved.ok) throw new Error(formatModelError(resolved.error));
  const estimate = estimateCpuMemory(resolved.model, undefined, options);
  if (!estimate.ok) throw new Error(formatModelError(estimate.error));
  return estimate.value;
}

function row(job, label, predicted, measured, extra) {
  const ratio = predicted.peakBytes / measured;
  return {
    job,
    label,
    predictedBytes: predicted.peakBytes,
    measuredBytes: measured,
    ratio,
    pass: Math.abs(ratio - 1) <= TARGET,
    ...extra,
    breakdown: predicted.breakdown,
  };
}

async function generateRow(label, folder) {
  const r = await startJob({ kind: 'generate', model: folder, options: { prompt: PROMPT, maxTokens: NEW_TOKENS } });
  const tokenizerBytes = statSync(join(folder, 'tokenizer.json')).size;
  const predicted = await predict(folder, {
    batch: 1,
    promptTokens: r.metrics.promptTokens,
    newTokens: NEW_TOKENS,
    threads: r.environment.threads,
    tokenizerBytes,
    promptVocab: tokenizerVocab(folder),
  });
  return row('generate', label, predicted, r.metrics.peakRssBytes, {
    batch: 1,
    tokens: `${r.metrics.promptTokens}+${NEW_TOKENS}`,
    threads: r.environment.threads,
  });
}

/** Ids the folder's tokenizer can produce: a prompt reads embedding rows among these only. */
function tokenizerVocab(folder) {
  const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8'));
  const vocab = json.model?.vocab ?? {};
  return (Array.isArray(vocab) ? vocab.length : Object.keys(vocab).length) + (json.added_tokens?.length ?? 0);
}

/**
 * Benchmark jobs with the quantized checkpoint as a variant, one job per batch size (so one measuring process
 * per variant and batch): the process's peak over its phases (a forward pass, then a generation) against the
 * largest of those phases' estimates, each counting the embedding rows read up to its end.
 */
async function benchmarkRows(label, folder, quantized, promptLength) {
  const names = new Map([
    ['fp16', folder],
    ['gptq 4-bit', quantized],
  ]);
  const generate = { promptTokens: 30, newTokens: [30] };
  const promptVocab = tokenizerVocab(folder);
  const rows = [];
  for (const batch of [1, 16]) {
    const r = await startJob({
      kind: 'benchmark',
      model: folder,
      options: { variants: [{ name: 'gptq 4-bit', model: quantized }], batchSizes: [batch], promptLength, generate, evaluate: false },
    });
    for (const [variant, variantFolder] of names) {
      const phases = r.rows.filter((b) => b.variant === variant);
      if (phases.length === 0) throw new Error(`the benchmark of ${folder} has no rows for variant "${variant}"`);
      const tokensRead = { prompt: 0, generated: 0 };
      const estimates = [];
      for (const p of phases) {
        tokensRead.prompt += batch * p.promptTokens;
        tokensRead.generated += batch * p.newTokens;
        estimates.push(
          await predict(variantFolder, {
            batch,
            promptTokens: p.promptTokens,
            newTokens: p.newTokens,
            threads: r.environment.threads,
            tokenizerBytes: 0,
            tokensRead: { ...tokensRead },
            promptVocab,
            process: 'measuring',
          }),
        );
      }
      const largest = estimates.reduce((a, e) => (e.peakBytes > a.peakBytes ? e : a));
      const measured = Math.max(...phases.map((p) => p.peakMemoryBytes));
      const tokens = phases.map((p) => `${p.phase} ${p.promptTokens}+${p.newTokens}`).join(', ');
      rows.push(
        row('benchmark', `${label} ${variant} bs${batch}`, largest, measured, {
          batch,
          tokens,
          threads: r.environment.threads,
          phases: phases.map((p, i) => ({
            phase: p.phase,
            promptTokens: p.promptTokens,
            newTokens: p.newTokens,
            measuredBytes: p.peakMemoryBytes,
            predictedBytes: estimates[i].peakBytes,
          })),
        }),
      );
    }
  }
  return rows;
}

const tiny = join(root, 'examples', 'tiny-llama');
const big = ensureRandomLlama();
const bigLabel = `random Llama ${(parameterCount() / 1e6).toFixed(0)}M`;
const tinyGptq = await ensureQuantized(tiny, 'tiny-llama-gptq-4bit', {
  config: GPTQ_4BIT,
  algorithm: 'gptq',
  calibration: { nsamples: 32, seqlen: 256, seed: 0 },
});
// RTN writes the same GPTQ tensors as GPTQ does, in seconds rather than the hour calibration would take here.
const bigGptq = await ensureQuantized(big, 'random-llama-350m-gptq-4bit-rtn', { config: GPTQ_4BIT, algorithm: 'rtn' });

const rows = [];
for (const [label, folder] of [
  ['tiny-llama fp16', tiny],
  ['tiny-llama GPTQ 4-bit', tinyGptq],
  [`${bigLabel} fp16`, big],
  [`${bigLabel} GPTQ 4-bit`, bigGptq],
]) {
  log(`memory: generate on ${label} …`);
  rows.push(await generateRow(label, folder));
}
for (const [label, folder, quantized, promptLength] of [
  ['tiny-llama', tiny, tinyGptq, 512],
  [bigLabel, big, bigGptq, 128],
]) {
  log(`memory: benchmark on ${label} …`);
  rows.push(...(await benchmarkRows(label, folder, quantized, promptLength)));
}

const table = [
  ['job', 'model', 'batch', 'tokens', 'predicted MiB', 'measured MiB', 'ratio', ''],
  ...rows.map((r) => [
    r.job,
    r.label,
    String(r.batch),
    r.tokens,
    (r.predictedBytes / MiB).toFixed(1),
    (r.measuredBytes / MiB).toFixed(1),
    r.ratio.toFixed(3),
    r.pass ? 'ok' : 'MISSED',
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((t) => t[i].length)));
log(table.map((t) => t.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n'));

mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'memory.json'), JSON.stringify(rows, null, 2) + '\n');
const results = rows.map((r) => ({
  metric: `${r.job} ${r.label} (${r.tokens}): predicted / measured peak RSS (measured ${(r.measuredBytes / MiB).toFixed(1)} MiB)`,
  value: r.ratio,
  unit: 'ratio',
  target: `${1 - TARGET}–${1 + TARGET}`,
  pass: r.pass,
}));
console.log(JSON.stringify({ name: 'memory', results }));
