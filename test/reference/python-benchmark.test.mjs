// The python backend's benchmark: the same benchmark job file measured by transformers in the reference venv (on
// CPU here; CUDA where torch sees a GPU) and by the engine, through the CLI as a user runs it. The baseline, an
// NF4 config variant (quantized by bitsandbytes on python, by the engine on the engine) and a GPTQ checkpoint the
// engine wrote (loaded by transformers through GPTQModel's kernels) give the same table on both backends, and the
// perplexities agree: transformers and the engine compute the same protocol on the same token ids. Also: the job's
// kernel reaches GPTQModel, and a Python without the libraries gets the exact pip line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';

import { cliPath as cli, cliReference, repoRoot, venvPath } from './venv.mjs';

const { venv, skip } = cliReference();

const validateRun = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(join(repoRoot, 'schemas', 'run-result.schema.json'), 'utf8')),
);
const model = join(repoRoot, 'examples', 'tiny-llama');
const nf4 = { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true };
// Small on purpose: the figures compared are the perplexities and the table's shape, not the speed.
const section = {
  batchSizes: [1, 2],
  promptLength: 64,
  generate: { promptTokens: 16, newTokens: [8] },
  evaluate: { maxTokens: 4096 },
  repeat: 2,
};
// fp16 weights in fp32 compute on both sides: only the order of the sums differs (measured 8e-8).
const FP16_TOLERANCE = 1e-5;
// bitsandbytes and the engine write the same NF4 codes (checkpoint-load.test.mjs); bitsandbytes' CPU matmul
// computes in the config's compute dtype, the engine's kernel in fp32 (measured 1.2e-4).
const NF4_TOLERANCE = 1e-3;
// The same GPTQ checkpoint: GPTQModel's CPU kernel dequantizes through the fp16 scales (measured 8e-5).
const GPTQ_TOLERANCE = 3e-4;

let scratch;
test.before(() => {
  if (!skip) scratch = mkdtempSync(join(tmpdir(), 'qs-python-benchmark-'));
});
test.after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function cliRun(args) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, GPTQMODEL_CPU_WORKERS: '2', HF_HUB_OFFLINE: '1' },
    timeout: 900_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** The engine's GPTQ 4-bit g128 checkpoint of the demo model (round to nearest: seconds). */
function engineGptqCheckpoint() {
  const out = join(scratch, 'gptq-rtn');
  const config = join(scratch, 'gptq.config.json');
  writeFileSync(config, JSON.stringify({ quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: false }));
  const r = cliRun(['quantize', '--model', model, '--config', config, '--out', out, '--algorithm', 'rtn']);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

/** Rows keyed by what they measured, with the figures compared across backends. */
function byKey(run) {
  return new Map(run.rows.map((r) => [`${r.variant}|${r.phase}|${r.batch}|${r.promptTokens}+${r.newTokens}`, r]));
}

const relativeGap = (a, b) => Math.abs(a - b) / b;

test('one benchmark job file on both backends: the same table, and perplexities that agree', { skip, timeout: 900_000 }, () => {
  // The runner's scratch folders, by name: the ones another run on this machine left are not this run's.
  const measureFolders = () => readdirSync(tmpdir()).filter((f) => f.startsWith('quantstudio-measure-'));
  const before = new Set(measureFolders());
  const checkpoint = engineGptqCheckpoint();
  const jobFile = join(scratch, 'bench.quant.json');
  writeFileSync(
    jobFile,
    JSON.stringify({
      model,
      quantization_config: nf4,
      backend: 'python',
      benchmark: { ...section, variants: [{ model: checkpoint, name: 'gptq engine-written' }] },
    }),
  );
  const python = cliRun(['benchmark', jobFile, '--python', venv.python, '--json']);
  assert.equal(python.status, 0, python.stderr);
  const engine = cliRun(['benchmark', jobFile, '--backend', 'engine', '--json']);
  assert.equal(engine.status, 0, engine.stderr);
  const [p, e] = [JSON.parse(python.stdout), JSON.parse(engine.stdout)];
  for (const run of [p, e]) assert.ok(validateRun(run), JSON.stringify(validateRun.errors));

  assert.equal(p.backend.name, 'python');
  assert.equal(p.backend.interpreter, venv.python);
  assert.equal(p.backend.device, 'cpu');
  assert.deepEqual(Object.keys(p.backend.libraries).sort(), ['bitsandbytes', 'gptqmodel', 'torch', 'transformers']);
  assert.equal(p.backend.libraries.transformers, '5.23.0');
  assert.deepEqual(e.backend, { name: 'engine' });

  // The same measurements, in the same order: per variant and batch size a forward row, then a generate row.
  assert.deepEqual([...byKey(p).keys()], [...byKey(e).keys()]);
  assert.equal(p.rows.length, 3 * 2 * 2);
  const kernels = Object.fromEntries(p.rows.map((r) => [r.variant, r.kernel]));
  assert.deepEqual(Object.keys(kernels), ['fp16', 'nf4', 'gptq engine-written']);
  assert.equal(kernels.fp16, 'torch Linear (float32)');
  assert.equal(kernels.nf4, 'bitsandbytes Linear4bit');
  assert.match(kernels['gptq engine-written'], /^gptqmodel \w+$/); // the kernel GPTQModel picks for this CPU
  for (const r of p.rows) {
    assert.equal(r.runs, 2);
    assert.ok(r.perTokenLatencyMs > 0 && r.throughputTokensPerSecond > 0 && r.loadSeconds > 0, JSON.stringify(r));
    assert.ok(r.perTokenLatencyMsRange[0] <= r.perTokenLatencyMs && r.perTokenLatencyMs <= r.perTokenLatencyMsRange[1]);
    // the Python process holds torch: hundreds of MiB, where the engine's child holds tens
    assert.ok(r.peakMemoryBytes > 100 * 2 ** 20, `${r.variant}: ${r.peakMemoryBytes}`);
    assert.equal(r.reservedMemoryBytes, undefined, 'a CPU run has no CUDA reservation');
  }

  const perplexity = (run, variant) => run.rows.find((r) => r.variant === variant).perplexity;
  for (const [variant, tolerance] of [
    ['fp16', FP16_TOLERANCE],
    ['nf4', NF4_TOLERANCE],
    ['gptq engine-written', GPTQ_TOLERANCE],
  ]) {
    const [a, b] = [perplexity(p, variant), perplexity(e, variant)];
    console.log(`${variant} perplexity over ${p.metrics.evaluationTokens} tokens: transformers ${a.toFixed(6)}, engine ${b.toFixed(6)}`);
    assert.ok(relativeGap(a, b) < tolerance, `${variant}: transformers ${a} vs engine ${b}`);
  }
  assert.equal(p.metrics.evaluationTokens, 4096);
  // This run's scratch folders are gone.
  assert.deepEqual(
    measureFolders().filter((f) => !before.has(f)),
    [],
  );
});

test("the job's kernel picks GPTQModel's; a kernel GPTQModel does not know is refused with its list", { skip, timeout: 600_000 }, () => {
  const checkpoint = join(scratch, 'gptq-rtn');
  if (!existsSync(checkpoint)) engineGptqCheckpoint();
  const quick = ['--batch', '1', '--prompt-length', '8', '--new-tokens', '2', '--repeat', '1', '--no-eval'];
  const base = ['benchmark', '--model', model, '--variant', checkpoint, '--backend', 'python', '--python', venv.python, ...quick];
  const fused = cliRun([...base, '--kernel', 'torch_fused', '--json']);
  assert.equal(fused.status, 0, fused.stderr);
  assert.deepEqual(
    [...new Set(JSON.parse(fused.stdout).rows.map((r) => r.kernel))],
    ['torch Linear (float32)', 'gptqmodel TorchFusedLinear'],
  );
  // GPTQModel's plain torch kernel takes fp16 and bf16 only, and the CPU runs fp32: its own refusal comes back
  const torch = cliRun([...base, '--kernel', 'torch']);
  assert.equal(torch.status, 1);
  assert.match(torch.stderr, /python backend: ValueError: .*TorchLinear'> only supports `\[torch\.float16, torch\.bfloat16\]` dtype/);
  const unknown = cliRun([...base, '--kernel', 'warp-drive']);
  assert.equal(unknown.status, 1);
  assert.match(
    unknown.stderr,
    /python backend: kernel "warp-drive" is not one of GPTQModel 7\.7\.0's backends: auto, .*\bexllama_v2\b.*\bmarlin\b/,
  );
});

test('a Python without torch is told the exact pip line for the benchmark', { skip, timeout: 120_000 }, () => {
  const base = readFileSync(join(venvPath(), 'pyvenv.cfg'), 'utf8')
    .match(/^executable\s*=\s*(.+)$/m)?.[1]
    .trim();
  assert.ok(base && existsSync(base), 'pyvenv.cfg names no executable');
  const r = cliRun([
    'benchmark',
    '--model',
    model,
    '--backend',
    'python',
    '--python',
    base,
    '--no-eval',
    '--batch',
    '1',
    '--prompt-length',
    '8',
  ]);
  assert.equal(r.status, 1);
  const escaped = base.replace(/[.]/g, '\\.');
  assert.match(
    r.stderr,
    new RegExp(
      `python backend: the python backend's benchmark needs torch, transformers, not installed in ${escaped}; ` +
        `install with: ${escaped} -m pip install torch transformers==5\\.23\\.0`,
    ),
  );
});
