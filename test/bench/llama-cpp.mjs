#!/usr/bin/env node
// Our decode and prefill side by side with llama.cpp on the same 349M random Llama (test/tools/random-llama.mjs):
// fp16 against GGUF F16, and our 4-bit formats (GPTQ 4-bit g128, AWQ GEMM 4-bit g128, NF4) against Q4_0, at the same thread count,
// our 4-bit formats with the run options that match llama.cpp's Q4_0 file (fp16 KV cache as llama-bench's default;
// the lm_head in int8, where llama-quantize writes the output matrix in Q6_K), and GPTQ with our defaults too
// (fp32 cache, the lm_head as stored); fp16 with the fp16 cache (the F16 file keeps its output in F16).
// llama.cpp's llama-bench and llama-quantize are built once from the source vendored in llama-cpp-python's sdist
// and cached under <cache>/quantstudio-bench/ with the GGUF conversions. Rounds interleave ours and llama-bench so
// a shared machine's load falls on both; each round's ratio is printed with the load average, and the median
// ratio is the result. Without pip, cmake, a compiler or the reference venv the part skips and says why.
// --shape llama-3.2-1b runs one of test/tools/random-shapes.mjs' real shapes instead of the 349M model.
//   node test/bench/llama-cpp.mjs [--rounds N] [--threads T] [--shape KEY]
// Last stdout line: {"name": "llama-cpp", "results": [...]}; details in bench-results/llama-cpp.json.
import { numberArg } from './_args.mjs';
import { benchCacheDir } from '../tools/random-llama.mjs';
import { DECODE_FORMATS, decodeModel } from './_decode-models.mjs';
import {
  ggufModels,
  llamaBinaries,
  llamaSource,
  loadAverage as load,
  median,
  oursDecode,
  referencePython,
  runLlamaPart,
  theirsDecode,
} from './_llama-cpp-tools.mjs';

const ROUNDS = numberArg('--rounds', 3);
const THREADS = numberArg('--threads', 2);
const PROMPT = 512;
const STEPS = 128;
const log = (line) => process.stderr.write(`${line}\n`);
const shapeAt = process.argv.indexOf('--shape');
const SHAPE = shapeAt >= 0 ? process.argv[shapeAt + 1] : undefined;

const details = { shape: SHAPE ?? 'random-llama-350m', threads: THREADS, prompt: PROMPT, steps: STEPS, rounds: [] };
await runLlamaPart(SHAPE ? `llama-cpp-${SHAPE}` : 'llama-cpp', details, async () => {
  const cache = benchCacheDir();
  const python = referencePython();
  const source = llamaSource(cache, python);
  const binaries = llamaBinaries(cache, source, THREADS);
  const folders = new Map();
  for (const format of DECODE_FORMATS) folders.set(format.label, await decodeModel(format, log, SHAPE));
  const gguf = ggufModels(cache, source, python, binaries, folders.get('fp16'), THREADS);
  // [our format, KV cache, lm_head, their type, their file]
  const pairs = [
    ['fp16', 'fp16', 'stored', 'F16', gguf.f16],
    ['GPTQ 4-bit g128', 'fp16', 'int8', 'Q4_0', gguf.q4],
    ['GPTQ 4-bit g128', 'fp32', 'stored', 'Q4_0', gguf.q4],
    ['AWQ GEMM 4-bit g128', 'fp16', 'int8', 'Q4_0', gguf.q4],
    ['NF4', 'fp16', 'int8', 'Q4_0', gguf.q4],
  ].map(([format, kvCache, lmHead, theirLabel, file]) => {
    const label = `${format}, ${kvCache} KV${lmHead === 'int8' ? ', int8 lm_head' : ''}`;
    return { format, kvCache, lmHead, label, theirLabel, file };
  });
  for (let round = 0; round < ROUNDS; round++) {
    for (const { format, kvCache, lmHead, label, theirLabel, file } of pairs) {
      const before = load();
      const a = oursDecode(folders.get(format), THREADS, PROMPT, STEPS, kvCache, lmHead);
      const b = theirsDecode(binaries, file, THREADS, PROMPT, STEPS);
      const row = {
        round,
        ours: label,
        theirs: theirLabel,
        ourPrefill: a.prefill,
        ourDecode: a.decode,
        theirPrefill: b.prefill,
        theirDecode: b.decode,
        load: `${before} → ${load()}`,
      };
      details.rounds.push(row);
      log(
        `llama-cpp: round ${round + 1} ${label} vs ${theirLabel}: decode ${a.decode.toFixed(1)} / ${b.decode.toFixed(1)} tok/s = ${(a.decode / b.decode).toFixed(2)}×, ` +
          `prefill ${a.prefill.toFixed(1)} / ${b.prefill.toFixed(1)} = ${(a.prefill / b.prefill).toFixed(2)}× (load average ${row.load})`,
      );
    }
  }
  const results = pairs.flatMap(({ label, theirLabel }) => {
    const rows = details.rounds.filter((r) => r.ours === label);
    const decodeRatio = median(rows.map((r) => r.ourDecode / r.theirDecode));
    const prefillRatio = median(rows.map((r) => r.ourPrefill / r.theirPrefill));
    return [
      {
        metric: `${label} decode (prompt ${PROMPT}, ${STEPS} steps, ${THREADS} threads)`,
        value: median(rows.map((r) => r.ourDecode)),
        unit: 'tokens/s',
      },
      { metric: `llama.cpp ${theirLabel} decode`, value: median(rows.map((r) => r.theirDecode)), unit: 'tokens/s' },
      {
        metric: `${label} / llama.cpp ${theirLabel} decode (median of ${rows.length} rounds)`,
        value: decodeRatio,
        unit: 'ratio',
        target: '≥ 1.0',
        pass: decodeRatio >= 1,
      },
      {
        metric: `${label} / llama.cpp ${theirLabel} prefill ${PROMPT}`,
        value: prefillRatio,
        unit: 'ratio',
        target: '≥ 1.0',
        pass: prefillRatio >= 1,
      },
    ];
  });
  results.push({ metric: 'load average (1, 5, 15 min) at the end', value: load(), unit: '' });
  return results;
});
