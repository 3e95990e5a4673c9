#!/usr/bin/env node
// Our decode and prefill side by side with llama.cpp on the same 349M random Llama (test/tools/random-llama.mjs):
// fp16 against GGUF F16, and our 4-bit formats (GPTQ 4-bit g128, NF4) against Q4_0, at the same thread count.
// llama.cpp's llama-bench and llama-quantize are built once from the source vendored in llama-cpp-python's sdist
// and cached under <cache>/quantstudio-bench/ with the GGUF conversions. Rounds interleave ours and llama-bench so
// a shared machine's load falls on both; each round's ratio is printed with the load average, and the median
// ratio is the result. Without pip, cmake, a compiler or the reference venv the part skips and says why.
//   node test/bench/llama-cpp.mjs [--rounds N] [--threads T]
// Last stdout line: {"name": "llama-cpp", "results": [...]}; details in bench-results/llama-cpp.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg } from './_args.mjs';
import { benchCacheDir } from '../tools/random-llama.mjs';
import { DECODE_FORMATS, decodeModel } from './_decode-models.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ROUNDS = numberArg('--rounds', 3);
const THREADS = numberArg('--threads', 2);
const PROMPT = 512;
const STEPS = 128;
const log = (line) => process.stderr.write(`${line}\n`);
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');

class Skip extends Error {}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) throw new Skip(`${command} could not run: ${r.error.message}`);
  if (r.status !== 0)
    throw new Skip(
      `${command} ${args.slice(0, 3).join(' ')} … exited with ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`,
    );
  return r.stdout;
}

/** The reference venv's python (test/reference/setup.sh creates it once). */
function referencePython() {
  const venv = run('bash', [join(root, 'test', 'reference', 'setup.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop();
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) throw new Skip(`the reference venv has no python at ${python}`);
  return python;
}

/** llama.cpp's source from llama-cpp-python's sdist, downloaded and unpacked once. */
function llamaSource(cache, python) {
  const srcDir = join(cache, 'src');
  mkdirSync(srcDir, { recursive: true });
  const unpacked = () =>
    readdirSync(srcDir)
      .filter((n) => n.startsWith('llama_cpp_python-') && !n.endsWith('.tar.gz'))
      .sort()
      .pop();
  if (!unpacked()) {
    log('llama-cpp: downloading the llama-cpp-python sdist …');
    run(python, ['-m', 'pip', 'download', 'llama-cpp-python', '--no-binary', ':all:', '--no-deps', '-d', srcDir]);
    const tarball = readdirSync(srcDir)
      .filter((n) => n.endsWith('.tar.gz'))
      .sort()
      .pop();
    if (!tarball) throw new Skip(`pip download left no llama-cpp-python sdist in ${srcDir}`);
    run('tar', ['xzf', join(srcDir, tarball), '-C', srcDir]);
  }
  const dir = join(srcDir, unpacked(), 'vendor', 'llama.cpp');
  if (!existsSync(join(dir, 'CMakeLists.txt'))) throw new Skip(`the sdist has no vendored llama.cpp at ${dir}`);
  return dir;
}

/** llama-bench and llama-quantize, built once for this CPU (GGML_NATIVE). */
function llamaBinaries(cache, source) {
  const build = join(cache, 'llama-build');
  const bin = (name) => join(build, 'bin', name);
  if (!existsSync(bin('llama-bench')) || !existsSync(bin('llama-quantize'))) {
    log(`llama-cpp: building llama-bench and llama-quantize in ${build} (once; tens of minutes on 2 cores) …`);
    run('cmake', [
      '-S',
      source,
      '-B',
      build,
      '-DCMAKE_BUILD_TYPE=Release',
      '-DGGML_NATIVE=ON',
      '-DLLAMA_CURL=OFF',
      '-DLLAMA_OPENSSL=OFF',
      '-DLLAMA_BUILD_TESTS=OFF',
      '-DLLAMA_BUILD_EXAMPLES=OFF',
      '-DLLAMA_BUILD_SERVER=OFF',
    ]);
    run('cmake', ['--build', build, '--target', 'llama-bench', 'llama-quantize', '-j', String(THREADS)]);
  }
  return { bench: bin('llama-bench'), quantize: bin('llama-quantize') };
}

/** The random Llama as GGUF F16 and Q4_0, converted by llama.cpp's own tools (vocabulary: see _llama-cpp-gguf.py). */
function ggufModels(cache, source, python, binaries, folder) {
  const dir = join(cache, 'gguf');
  mkdirSync(dir, { recursive: true });
  const stamp = readFileSync(join(folder, 'generator.json'), 'utf8');
  const stampFile = join(dir, 'random-llama-350m.source.json');
  const f16 = join(dir, 'random-llama-350m-f16.gguf'),
    q4 = join(dir, 'random-llama-350m-q4_0.gguf');
  const fresh = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  if (!fresh || !existsSync(f16)) {
    if (spawnSync(python, ['-c', 'import gguf'], { encoding: 'utf8' }).status !== 0) {
      run(python, ['-m', 'pip', 'install', '--no-deps', join(source, 'gguf-py')]);
    }
    log('llama-cpp: converting the random Llama to GGUF F16 …');
    run(python, [join(here, '_llama-cpp-gguf.py'), source, folder, '--outtype', 'f16', '--outfile', f16]);
  }
  if (!fresh || !existsSync(q4)) {
    log('llama-cpp: quantizing the GGUF to Q4_0 …');
    run(binaries.quantize, [f16, q4, 'Q4_0', String(THREADS)]);
  }
  writeFileSync(stampFile, stamp);
  return { f16, q4 };
}

/** Our prefill (PROMPT tokens) and decode (STEPS steps after it) in a fresh process. */
function ours(folder) {
  const r = spawnSync(process.execPath, [join(here, '_decode-ours.mjs'), folder, String(PROMPT), String(STEPS)], {
    encoding: 'utf8',
    env: { ...process.env, QUANTSTUDIO_THREADS: String(THREADS) },
  });
  if (r.status !== 0)
    throw new Error(`our decode of ${folder} exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** llama-bench's pp512 and tg128 at depth 512 (decode after the prompt, as ours), one repetition each. */
function theirs(binaries, gguf) {
  const bench = (args) => JSON.parse(run(binaries.bench, ['-m', gguf, '-t', String(THREADS), '-r', '1', '-o', 'json', ...args]))[0].avg_ts;
  return { prefill: bench(['-p', String(PROMPT), '-n', '0']), decode: bench(['-p', '0', '-n', String(STEPS), '-d', String(PROMPT)]) };
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let results;
const details = { threads: THREADS, prompt: PROMPT, steps: STEPS, rounds: [] };
try {
  const cache = benchCacheDir();
  const python = referencePython();
  const source = llamaSource(cache, python);
  const binaries = llamaBinaries(cache, source);
  const folders = new Map();
  for (const format of DECODE_FORMATS) folders.set(format.label, await decodeModel(format, log));
  const gguf = ggufModels(cache, source, python, binaries, folders.get('fp16'));
  const pairs = [
    ['fp16', 'F16', gguf.f16],
    ['GPTQ 4-bit g128', 'Q4_0', gguf.q4],
    ['NF4', 'Q4_0', gguf.q4],
  ];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, theirLabel, file] of pairs) {
      const before = load();
      const a = ours(folders.get(label));
      const b = theirs(binaries, file);
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
  results = pairs.flatMap(([label, theirLabel]) => {
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
} catch (error) {
  if (!(error instanceof Skip)) throw error;
  log(`llama-cpp: skipped: ${error.message}`);
  details.skipped = error.message;
  results = [{ metric: 'skipped (llama.cpp could not be built or run here)', value: error.message, unit: '' }];
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'llama-cpp.json'), JSON.stringify(details, null, 2) + '\n');
console.log(JSON.stringify({ name: 'llama-cpp', results }));
