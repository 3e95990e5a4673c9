#!/usr/bin/env node
// How our engine and llama.cpp scale with threads on this machine's cores: at each thread count, decode and prefill
// of the 349M random Llama (ours fp16 and GPTQ 4-bit g128, llama.cpp F16 and Q4_0; prompt 512, then 128 decode
// steps after it) and our GPTQ 4-bit g128 on two layers of the same shape (16 × 256 calibration tokens), each in a
// fresh process. Reported per series: tokens/s (or seconds) at each count, the speed-up over one thread, and ours
// against llama.cpp at each count, with the load average. Users' workstations have many more cores than a CI
// machine: on one without the reference venv or the network, pass a python with llama.cpp's gguf-py importable
// and an unpacked llama.cpp source (see _llama-cpp-tools.mjs).
//   node test/bench/thread-scaling.mjs [--threads 1,2,4] [--python PATH] [--llama-source DIR]
// Default thread counts: 1, then powers of two up to the machine's cores, and the core count itself.
// Last stdout line: {"name": "thread-scaling", "results": [...]}; details in bench-results/thread-scaling.json.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCacheDir, ensureRandomLlama, RANDOM_LLAMA } from '../tools/random-llama.mjs';
import { decodeModel, DECODE_FORMATS } from './_decode-models.mjs';
import {
  ggufModels,
  llamaBinaries,
  llamaSource,
  loadAverage,
  oursDecode,
  referencePython,
  runLlamaPart,
  theirsDecode,
} from './_llama-cpp-tools.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PROMPT = 512;
const STEPS = 128;
const GPTQ_LAYERS = 2;
const GPTQ_SAMPLES = 16;
const GPTQ_SEQLEN = 256;
const log = (line) => process.stderr.write(`${line}\n`);
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

function defaultThreadCounts() {
  const cores = availableParallelism();
  const counts = [];
  for (let t = 1; t < cores; t *= 2) counts.push(t);
  return [...counts, cores];
}
const THREAD_COUNTS = option('--threads')?.split(',').map(Number) ?? defaultThreadCounts();

/** Our GPTQ on the two-layer model in a fresh process at `threads` engine threads: the layers' seconds. */
function oursGptq(folder, threads) {
  const r = spawnSync(process.execPath, [join(here, '_gptq-ours.mjs'), folder, String(GPTQ_SAMPLES), String(GPTQ_SEQLEN)], {
    encoding: 'utf8',
    env: { ...process.env, QUANTSTUDIO_THREADS: String(threads) },
  });
  if (r.status !== 0) throw new Error(`our GPTQ exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const details = { threadCounts: THREAD_COUNTS, prompt: PROMPT, steps: STEPS, rows: [] };
await runLlamaPart('thread-scaling', details, async () => {
  const cache = benchCacheDir();
  const python = option('--python') ?? referencePython();
  const source = option('--llama-source') ?? llamaSource(cache, python);
  const binaries = llamaBinaries(cache, source, availableParallelism());
  const formats = DECODE_FORMATS.filter((f) => f.label === 'fp16' || f.label.startsWith('GPTQ'));
  const folders = new Map();
  for (const format of formats) folders.set(format.label, await decodeModel(format, log));
  const gguf = ggufModels(cache, source, python, binaries, folders.get('fp16'), availableParallelism());
  const gptqModel = ensureRandomLlama({ ...RANDOM_LLAMA, name: `${RANDOM_LLAMA.name}-${GPTQ_LAYERS}-layers`, layers: GPTQ_LAYERS }, log);
  const pairs = [
    ['fp16', 'F16', gguf.f16],
    ['GPTQ 4-bit g128', 'Q4_0', gguf.q4],
  ];
  for (const threads of THREAD_COUNTS) {
    const row = { threads, load: [loadAverage()], decode: {}, prefill: {} };
    for (const [label, theirLabel, file] of pairs) {
      const a = oursDecode(folders.get(label), threads, PROMPT, STEPS);
      const b = theirsDecode(binaries, file, threads, PROMPT, STEPS);
      row.decode[label] = a.decode;
      row.decode[`llama.cpp ${theirLabel}`] = b.decode;
      row.prefill[label] = a.prefill;
      row.prefill[`llama.cpp ${theirLabel}`] = b.prefill;
    }
    row.gptq = oursGptq(gptqModel, threads);
    row.load.push(loadAverage());
    details.rows.push(row);
    const decode = Object.entries(row.decode)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
    log(
      `thread-scaling: ${threads} threads: decode tok/s ${decode}; our GPTQ ${row.gptq.seconds.toFixed(1)} s (load ${row.load.join(' → ')})`,
    );
  }
  const first = details.rows[0];
  const last = details.rows[details.rows.length - 1];
  const series = Object.keys(first.decode);
  const results = [
    ...series.map((name) => ({
      metric: `${name} decode speed-up, ${first.threads} → ${last.threads} threads`,
      value: last.decode[name] / first.decode[name],
      unit: '×',
    })),
    ...series.map((name) => ({
      metric: `${name} prefill ${PROMPT} speed-up, ${first.threads} → ${last.threads} threads`,
      value: last.prefill[name] / first.prefill[name],
      unit: '×',
    })),
    ...pairs.flatMap(([label, theirLabel]) =>
      details.rows.map((r) => ({
        metric: `${label} / llama.cpp ${theirLabel} decode at ${r.threads} threads`,
        value: r.decode[label] / r.decode[`llama.cpp ${theirLabel}`],
        unit: 'ratio',
        target: '≥ 1.0',
        pass: r.decode[label] >= r.decode[`llama.cpp ${theirLabel}`],
      })),
    ),
    {
      metric: `our GPTQ 4-bit g128 speed-up (${GPTQ_LAYERS} layers, ${GPTQ_SAMPLES}×${GPTQ_SEQLEN}), ${first.threads} → ${last.threads} threads`,
      value: first.gptq.seconds / last.gptq.seconds,
      unit: '×',
    },
    { metric: 'load average (1, 5, 15 min) at the end', value: loadAverage(), unit: '' },
  ];
  return results;
});
