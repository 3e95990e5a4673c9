// llama.cpp beside our runtime, shared by the bench parts that time both (llama-cpp, thread-scaling): its source
// from llama-cpp-python's sdist, llama-bench and llama-quantize built once for this CPU (GGML_NATIVE) and cached
// under <cache>/quantstudio-bench/, the 349M random Llama as GGUF F16 and Q4_0 converted by llama.cpp's own tools,
// and one timing of each side's prefill and decode at a thread count. A missing tool throws Skip with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const log = (line) => process.stderr.write(`${line}\n`);

export class Skip extends Error {}

export const loadAverage = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');

export const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) throw new Skip(`${command} could not run: ${r.error.message}`);
  if (r.status !== 0)
    throw new Skip(
      `${command} ${args.slice(0, 3).join(' ')} … exited with ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`,
    );
  return r.stdout;
}

/** The reference venv's python (test/reference/setup.sh creates it once). */
export function referencePython() {
  const venv = run('bash', [join(root, 'test', 'reference', 'setup.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop();
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) throw new Skip(`the reference venv has no python at ${python}`);
  return python;
}

/** llama.cpp's source from llama-cpp-python's sdist, downloaded and unpacked once. */
export function llamaSource(cache, python) {
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

/** llama-bench and llama-quantize, built once for this CPU (GGML_NATIVE) with `jobs` compilers. */
export function llamaBinaries(cache, source, jobs) {
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
    run('cmake', ['--build', build, '--target', 'llama-bench', 'llama-quantize', '-j', String(jobs)]);
  }
  return { bench: bin('llama-bench'), quantize: bin('llama-quantize') };
}

/** A random Llama folder as GGUF F16 and Q4_0, converted by llama.cpp's own tools (vocabulary: see _llama-cpp-gguf.py). */
export function ggufModels(cache, source, python, binaries, folder, threads) {
  const dir = join(cache, 'gguf');
  mkdirSync(dir, { recursive: true });
  const stamp = readFileSync(join(folder, 'generator.json'), 'utf8');
  const name = basename(folder);
  const stampFile = join(dir, `${name}.source.json`);
  const f16 = join(dir, `${name}-f16.gguf`),
    q4 = join(dir, `${name}-q4_0.gguf`);
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
    run(binaries.quantize, [f16, q4, 'Q4_0', String(threads)]);
  }
  writeFileSync(stampFile, stamp);
  return { f16, q4 };
}

/** Our prefill (prompt tokens) and decode (steps after it) in a fresh process at `threads` engine threads, with the
 *  engine's run options (KV cache fp32 or fp16, lm_head stored or int8). */
export function oursDecode(folder, threads, prompt, steps, kvCache = 'fp32', lmHead = 'stored') {
  const args = [join(here, '_decode-ours.mjs'), folder, String(prompt), String(steps), kvCache, lmHead];
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, QUANTSTUDIO_THREADS: String(threads) },
  });
  if (r.status !== 0)
    throw new Error(`our decode of ${folder} exited with ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** llama-bench's pp<prompt> and tg<steps> at depth <prompt> (decode after the prompt, as ours), one repetition each. */
export function theirsDecode(binaries, gguf, threads, prompt, steps) {
  const bench = (args) => JSON.parse(run(binaries.bench, ['-m', gguf, '-t', String(threads), '-r', '1', '-o', 'json', ...args]))[0].avg_ts;
  return { prefill: bench(['-p', String(prompt), '-n', '0']), decode: bench(['-p', '0', '-n', String(steps), '-d', String(prompt)]) };
}

/**
 * A llama.cpp bench part's frame: runs measure(details) for its results; a Skip becomes one "skipped" result with
 * the reason; the details go to bench-results/<name>.json and the part's contract line to stdout.
 */
export async function runLlamaPart(name, details, measure) {
  let results;
  try {
    results = await measure(details);
  } catch (error) {
    if (!(error instanceof Skip)) throw error;
    log(`${name}: skipped: ${error.message}`);
    details.skipped = error.message;
    results = [{ metric: 'skipped (llama.cpp could not be built or run here)', value: error.message, unit: '' }];
  }
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', `${name}.json`), JSON.stringify(details, null, 2) + '\n');
  console.log(JSON.stringify({ name, results }));
}
