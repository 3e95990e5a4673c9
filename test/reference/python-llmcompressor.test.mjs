// The python backend's compressed-tensors format: a quantize job with `format: "compressed-tensors"` run by
// llm-compressor 0.14 itself (in a venv of its own pins: torch 2.14, transformers 5.17) on the CPU, through the CLI
// as a user runs it. The checkpoint is compressed-tensors pack-quantized as vLLM loads it, it loads in our native
// runtime, and its perplexity (the job's own evaluation) is held to the engine's GPTQ on the same job and
// calibration tokens. Settings without a counterpart in llm-compressor, the format on the engine, and
// llm-compressor's AWQ without a GPU are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cliPath as cli, cliReference, repoRoot } from './venv.mjs';

const { venv, skip } = cliReference('requirements-llmcompressor.txt');

const model = join(repoRoot, 'examples', 'tiny-llama');
const calibration = { dataset: 'wikitext2', nsamples: 8, seqlen: 256, seed: 0 };
const evaluate = { after: true, maxTokens: 16384 };
const TOLERANCE = 0.01;

let scratch;
test.before(() => {
  if (!skip) scratch = mkdtempSync(join(tmpdir(), 'qs-llmcompressor-'));
});
test.after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function quantize(name, config, { format, python = true } = {}) {
  const jobFile = join(scratch, `${name}.quant.json`);
  const job = { model, quantization_config: config, calibration, output: join(scratch, name), options: { evaluate } };
  if (format) job.format = format;
  writeFileSync(jobFile, JSON.stringify(job));
  const backend = python ? ['--backend', 'python', '--python', venv.python] : [];
  const r = spawnSync(process.execPath, [cli, 'quantize', jobFile, '--json', ...backend], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, HF_HUB_OFFLINE: '1' },
    timeout: 900_000,
  });
  return { status: r.status, stderr: r.stderr, run: r.status === 0 ? JSON.parse(r.stdout) : undefined };
}

const gap = (a, b) => Math.abs(a - b) / b;

for (const { method, config, weights } of [
  {
    method: 'GPTQ',
    config: { quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: false },
    weights: { num_bits: 4, group_size: 128, symmetric: true, strategy: 'group', actorder: null },
  },
]) {
  test(
    `${method} 4-bit g128 through llm-compressor 0.14 writes compressed-tensors that our runtime runs at the engine's perplexity`,
    { skip, timeout: 900_000 },
    () => {
      const name = method.toLowerCase();
      const python = quantize(`${name}-ct`, config, { format: 'compressed-tensors' });
      assert.equal(python.status, 0, python.stderr);
      const engine = quantize(`${name}-engine`, config, { python: false });
      assert.equal(engine.status, 0, engine.stderr);
      assert.equal(python.run.backend.libraries.llmcompressor, '0.14.0.1');
      assert.equal(python.run.backend.libraries.compressed_tensors, '0.19.0');
      assert.equal(python.run.metrics.layers, 4, 'a progress line per decoder layer');
      const written = JSON.parse(readFileSync(join(scratch, `${name}-ct`, 'config.json'), 'utf8')).quantization_config;
      assert.equal(written.quant_method, 'compressed-tensors');
      assert.equal(written.format, 'pack-quantized');
      assert.ok(written.ignore.includes('lm_head'), JSON.stringify(written.ignore));
      const groups = Object.values(written.config_groups);
      assert.equal(groups.length, 1);
      assert.deepEqual(groups[0].targets, ['Linear']);
      for (const [key, value] of Object.entries(weights)) assert.deepEqual(groups[0].weights[key], value, key);
      assert.equal(groups[0].input_activations, null);
      const [p, e] = [python.run.metrics.perplexityAfter, engine.run.metrics.perplexityAfter];
      console.log(`${method} 4-bit perplexity over ${evaluate.maxTokens} tokens: llm-compressor ${p.toFixed(4)}, engine ${e.toFixed(4)}`);
      assert.ok(gap(p, e) < TOLERANCE, `llm-compressor ${p} vs engine ${e}`);
    },
  );
}

test('settings without a counterpart in llm-compressor, and the format on the engine, are refused before any work', { skip }, () => {
  const actOrder = quantize(
    'desc-act',
    { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: true },
    { format: 'compressed-tensors' },
  );
  assert.equal(actOrder.status, 1);
  assert.match(actOrder.stderr, /format "compressed-tensors" \(llm-compressor 0\.14\) takes desc_act false only/);
  const nf4 = quantize(
    'nf4',
    { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' },
    { format: 'compressed-tensors' },
  );
  assert.match(nf4.stderr, /quantizes GPTQ and AWQ configs; nf4 writes its own format/);
  const onEngine = quantize(
    'engine-ct',
    { quant_method: 'gptq', bits: 4, group_size: 128 },
    { format: 'compressed-tensors', python: false },
  );
  assert.match(onEngine.stderr, /options\.format "compressed-tensors" is written by llm-compressor on the python backend/);
  // llm-compressor 0.14's AWQ pins its activation cache, which torch does only with a CUDA driver: on this CPU, said
  // before the model is loaded
  const awq = quantize('awq-ct', { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true }, { format: 'compressed-tensors' });
  assert.equal(awq.status, 1);
  assert.match(awq.stderr, /llm-compressor 0\.14's AWQ needs a CUDA GPU: it pins its cached activations/);
  assert.doesNotMatch(awq.stderr, /^load /m);
  for (const name of ['desc-act', 'nf4', 'engine-ct', 'awq-ct']) assert.ok(!existsSync(join(scratch, name)), `${name}: no output`);
});
