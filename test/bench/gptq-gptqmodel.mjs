#!/usr/bin/env node
// Our GPTQ 4-bit g128 quantization of the 349M random Llama (test/tools/random-llama.mjs) side by side with
// GPTQModel 7.7 on the CPU, at the same thread count (ours: QUANTSTUDIO_THREADS; GPTQModel: torch.set_num_threads,
// OMP_NUM_THREADS) and on the same calibration windows (seeded random ids, drawn by the engine's sampleWindows
// and handed to both). Timed: ours, the sum of the per-layer seconds (each layer's fp pass, Hessians, GPTQ,
// packing and its quantized outputs; model load and writing excluded); GPTQModel, model.quantize() only, after
// a first quantize of tiny-llama in the same process has paid its one-time costs (extension build or load,
// torch's lazy kernel set-up) and with the model load timed apart (test/bench/_gptqmodel_quantize.py). Rounds
// interleave ours and GPTQModel; each prints both times, the ratio and the load average, and the CPU seconds
// of both processes (ours: the whole job, load and writing included) for a shared machine.
// --layers N quantizes a model of the same layer shape with N decoder layers instead of 24 (both sides' time
// grows linearly with the layers; the head and embeddings are not quantized).
//   node test/bench/gptq-gptqmodel.mjs [--samples N] [--seqlen N] [--rounds N] [--threads T] [--layers N]
// Without the reference venv the part skips and says why. Last stdout line: {"name": "gptq-gptqmodel", ...};
// details in bench-results/gptq-gptqmodel.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg } from './_args.mjs';
import { ensureRandomLlama, RANDOM_LLAMA } from '../tools/random-llama.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const SAMPLES = numberArg('--samples', 16);
const SEQLEN = numberArg('--seqlen', 256);
const ROUNDS = numberArg('--rounds', 1);
const THREADS = numberArg('--threads', 2);
const LAYERS = numberArg('--layers', RANDOM_LLAMA.layers);
const TARGET = 3;
process.env.QUANTSTUDIO_THREADS = String(THREADS); // read by the engine's thread pool when the addon loads
const require = createRequire(import.meta.url);
const { quantizeModel } = require(join(root, 'out', 'native', 'lib', 'quantize.js'));
const { sampleWindows, seededRandom } = require(join(root, 'out', 'native', 'lib', 'calibration.js'));
const { referenceVenv } = await import(join(root, 'test', 'reference', 'venv.mjs'));
const log = (line) => process.stderr.write(`${line}\n`);
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
const CONFIG = { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true };

/** nsamples windows of seqlen ids below 4096 (the random Llama's tokenizer's ids), as rows. */
function windows(nsamples, seqlen, seed) {
  const random = seededRandom(seed);
  const tokens = Array.from({ length: nsamples * seqlen * 4 }, () => Math.floor(random() * 4096));
  const ids = sampleWindows(tokens, nsamples, seqlen, 0);
  return { tokens, rows: Array.from({ length: nsamples }, (_, s) => Array.from(ids.subarray(s * seqlen, (s + 1) * seqlen))) };
}

async function ours(model, tokens) {
  const out = mkdtempSync(join(tmpdir(), 'qs-gptq-bench-'));
  try {
    const r = await quantizeModel(
      { model, config: CONFIG, out: join(out, 'model'), calibration: { tokens, nsamples: SAMPLES, seqlen: SEQLEN } },
      { onProgress: (p) => p.phase === 'layer' && log(`  ours: layer ${p.done}/${p.total} ${p.layer.seconds.toFixed(1)} s`) },
    );
    return r.layers.reduce((sum, l) => sum + l.seconds, 0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function gptqmodel(python, model, rows, warmupRows, scratch) {
  const input = JSON.stringify({
    model,
    warmup_model: join(root, 'examples', 'tiny-llama'),
    threads: THREADS,
    bits: CONFIG.bits,
    group_size: CONFIG.group_size,
    windows: rows,
    warmup_windows: warmupRows,
  });
  const r = spawnSync(python, [join(here, '_gptqmodel_quantize.py')], {
    input,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, TOKENIZERS_PARALLELISM: 'false', HF_HUB_OFFLINE: '1' },
    cwd: scratch, // GPTQModel writes its logs/ into the working directory
  });
  if (r.status !== 0) throw new Error(`GPTQModel exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const venv = referenceVenv();
let results;
const rounds = [];
if (venv.skip) {
  log(`gptq-gptqmodel: skipped: ${venv.skip}`);
  results = [{ metric: 'skipped', value: venv.skip }];
} else {
  const spec =
    LAYERS === RANDOM_LLAMA.layers ? RANDOM_LLAMA : { ...RANDOM_LLAMA, name: `${RANDOM_LLAMA.name}-${LAYERS}-layers`, layers: LAYERS };
  const model = ensureRandomLlama(spec);
  const { tokens, rows } = windows(SAMPLES, SEQLEN, 1);
  const warmupRows = windows(2, 64, 2).rows;
  if (!existsSync(model)) throw new Error(`no model at ${model}`);
  for (let round = 1; round <= ROUNDS; round++) {
    const loadBefore = load();
    const cpuBefore = process.cpuUsage();
    const oursSeconds = await ours(model, tokens);
    const cpu = process.cpuUsage(cpuBefore);
    const oursCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const loadMiddle = load();
    const scratch = mkdtempSync(join(tmpdir(), 'qs-gptqmodel-'));
    let theirs;
    try {
      theirs = gptqmodel(venv.python, model, rows, warmupRows, scratch);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    const row = {
      round,
      oursSeconds,
      gptqmodelSeconds: theirs.quantize_seconds,
      gptqmodelLoadSeconds: theirs.load_seconds,
      gptqmodelWarmupSeconds: theirs.warmup_seconds,
      ratio: theirs.quantize_seconds / oursSeconds,
      oursCpuSeconds,
      gptqmodelCpuSeconds: theirs.quantize_cpu_seconds,
      cpuRatio: theirs.quantize_cpu_seconds / oursCpuSeconds,
      load: [loadBefore, loadMiddle, load()],
    };
    rounds.push(row);
    const excluded = `load ${theirs.load_seconds.toFixed(1)} s and warm-up ${theirs.warmup_seconds.toFixed(1)} s excluded`;
    log(
      `round ${round}: ours ${oursSeconds.toFixed(1)} s (CPU ${row.oursCpuSeconds.toFixed(1)} s), GPTQModel 7.7 ${row.gptqmodelSeconds.toFixed(1)} s`,
    );
    log(`  (CPU ${row.gptqmodelCpuSeconds.toFixed(1)} s; ${excluded}): ${row.ratio.toFixed(2)}×, CPU ${row.cpuRatio.toFixed(2)}×`);
    log(`  load average ${row.load.join(' / ')}`);
  }
  const ratios = rounds.map((r) => r.ratio).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  results = [
    {
      metric: `ours GPTQ 4-bit g128, 349M shape, ${LAYERS} layers, ${SAMPLES}×${SEQLEN}, ${THREADS} threads`,
      value: rounds[0].oursSeconds,
      unit: 's',
    },
    { metric: 'GPTQModel 7.7, same', value: rounds[0].gptqmodelSeconds, unit: 's' },
    { metric: 'GPTQModel seconds / ours (median)', value: median, unit: '×', target: `≥ ${TARGET}`, pass: median >= TARGET },
  ];
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(
  join(root, 'bench-results', 'gptq-gptqmodel.json'),
  JSON.stringify({ samples: SAMPLES, seqlen: SEQLEN, threads: THREADS, layers: LAYERS, rounds }, null, 2) + '\n',
);
console.log(JSON.stringify({ name: 'gptq-gptqmodel', results }));
