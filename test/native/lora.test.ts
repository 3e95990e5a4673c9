// PEFT LoRA adapters on the runtime and in merge then quantize, against PEFT 0.21.2's own numbers: the adapters in
// test/fixtures/lora/ were written by PEFT (test/fixtures/tools/make_lora_adapters.py) with its fp32 logits.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { unpackLayer } from '../../native/lib/formats';
import { readSafetensorsHeader, readTensor, readTensorFloat32, TensorToWrite, writeSafetensors } from '../../native/lib/io';
import { mergeLoraWeight, readLoraAdapter } from '../../native/lib/loraAdapter';
import { dequantize } from '../../native/lib/quant';
import { quantizeModel } from '../../native/lib/quantize';
import { openModel } from '../../native/lib/runtime';
import { goldenPrompts, maxAbsDiff, repoRoot, tinyLlamaDir } from './runtime-fixtures';
import { atSimdLevel, simdLevels } from './simdLevels';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-lora-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const loraDir = (name: string): string => path.join(repoRoot, 'test', 'fixtures', 'lora', name);
const adapters = ['tiny-llama-r8', 'tiny-llama-patterns'];
const linearWeight = /^model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/;

for (const level of simdLevels)
  for (const name of adapters)
    test(`logits with the ${name} adapter match PEFT's within 1e-4, at ${level}`, () =>
      atSimdLevel(level, async () => {
        const adapted = openModel(tinyLlamaDir, { adapter: loraDir(name) });
        const base = openModel(tinyLlamaDir);
        for (const { ids, logits } of goldenPrompts(path.join(loraDir(name), 'golden_logits.safetensors'))) {
          const err = maxAbsDiff(await adapted.logits(ids), logits);
          assert.ok(err < 1e-4, `${ids.length} tokens: max |Δlogit| ${err}`);
          // The adapter moves the logits far more than the tolerance: an ignored adapter fails above.
          assert.ok(maxAbsDiff(await base.logits(ids), logits) > 1);
        }
      }));

test('decoding with an adapter one token at a time through the KV cache gives the prefill logits (greedy chain)', async () => {
  const model = openModel(tinyLlamaDir, { adapter: loraDir('tiny-llama-patterns') });
  const prompt = [146, 230, 89];
  const result = await model.generateIds(prompt, { maxTokens: 8, stopIds: [] });
  const vocab = model.config.vocabSize;
  const full = await model.logits([...prompt, ...result.tokens]);
  for (let i = 0; i < result.tokens.length; i++) {
    const row = full.subarray((prompt.length - 1 + i) * vocab, (prompt.length + i) * vocab);
    assert.equal(result.tokens[i], row.indexOf(Math.max(...row)), `token ${i}`);
  }
});

test('the patterns adapter resolves rank_pattern, alpha_pattern and use_rslora per module as PEFT does', () => {
  const a = readLoraAdapter(loraDir('tiny-llama-patterns'));
  const of = (m: string): [number, number] => {
    const plan = a.modules.find((x) => x.name === m)!;
    return [plan.rank, plan.scale];
  };
  assert.deepEqual(of('model.layers.0.self_attn.q_proj'), [4, 8 / 2]);
  assert.deepEqual(of('model.layers.1.self_attn.q_proj'), [6, 8 / Math.sqrt(6)]);
  assert.deepEqual(of('model.layers.2.mlp.down_proj'), [2, 8 / Math.sqrt(2)]);
  assert.deepEqual(of('model.layers.3.self_attn.o_proj'), [4, 3 / 2]);
  assert.equal(a.modules.length, 4 * 4);
});

/** tiny-llama quantized by the engine (GPTQ layout, RTN 4-bit g128), and beside it the same model with those linears
 *  as the fp32 weights the GPTQ unpacker reads back. */
async function quantizedAndDequantized(): Promise<{ quantDir: string; denseDir: string }> {
  const quantDir = path.join(tmp, 'gptq');
  const denseDir = path.join(tmp, 'gptq-dense');
  await quantizeModel({ model: tinyLlamaDir, config: { quant_method: 'gptq', bits: 4, group_size: 128 }, algorithm: 'rtn', out: quantDir });
  const source = path.join(tinyLlamaDir, 'model.safetensors');
  const tensors: TensorToWrite[] = readSafetensorsHeader(source).tensors.map(({ name }) => {
    if (!linearWeight.test(name)) {
      const t = readTensor(source, name);
      return { name, dtype: t.dtype, shape: t.shape, data: t.data };
    }
    const prefix = name.slice(0, -'.weight'.length);
    const data = dequantize(unpackLayer('gptq', quantDir, prefix, { bits: 4, groupSize: 128 }));
    return { name, dtype: 'F32', shape: readTensorFloat32(source, name).shape, data };
  });
  fs.mkdirSync(denseDir);
  fs.copyFileSync(path.join(tinyLlamaDir, 'config.json'), path.join(denseDir, 'config.json'));
  writeSafetensors(path.join(denseDir, 'model.safetensors'), tensors);
  return { quantDir, denseDir };
}

test('an adapter over a GPTQ checkpoint gives the logits of the dense runtime on its dequantized weights with the adapter', async () => {
  const { quantDir, denseDir } = await quantizedAndDequantized();
  const adapter = loraDir('tiny-llama-r8');
  const quant = openModel(quantDir, { adapter });
  const dense = openModel(denseDir, { adapter });
  const ids = Array.from({ length: 24 }, (_, i) => (i * 977 + 13) % 4096);
  for (const input of [ids.slice(0, 1), ids]) {
    const diff = maxAbsDiff(await quant.logits(input), await dense.logits(input));
    assert.ok(diff < 1e-3, `${input.length} tokens: max |Δlogit| ${diff}`);
    assert.ok(maxAbsDiff(await quant.logits(input), await openModel(quantDir).logits(input)) > 1, 'the adapter changes the logits');
  }
  const a = await quant.generateIds(ids.slice(0, 8), { maxTokens: 12, stopIds: [] });
  const b = await dense.generateIds(ids.slice(0, 8), { maxTokens: 12, stopIds: [] });
  assert.deepEqual(a.tokens, b.tokens);
});

/** tiny-llama with the adapter merged into its linears by the engine's merge (fp32), the rest as stored. */
function mergedDenseFolder(name: string): string {
  const dir = path.join(tmp, `${name}-merged-dense`);
  const adapter = readLoraAdapter(loraDir(name));
  const source = path.join(tinyLlamaDir, 'model.safetensors');
  const tensors: TensorToWrite[] = readSafetensorsHeader(source).tensors.map(({ name: tensor }) => {
    const prefix = tensor.slice(0, -'.weight'.length);
    if (!adapter.modules.some((m) => m.name === prefix)) {
      const t = readTensor(source, tensor);
      return { name: tensor, dtype: t.dtype, shape: t.shape, data: t.data };
    }
    const { shape, data } = readTensorFloat32(source, tensor);
    return { name: tensor, dtype: 'F32', shape, data: mergeLoraWeight(adapter, prefix, data, shape[0], shape[1]) };
  });
  fs.mkdirSync(dir);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    fs.copyFileSync(path.join(tinyLlamaDir, f), path.join(dir, f));
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

for (const name of adapters)
  test(`merge then quantize with ${name}: the merged weights give PEFT's logits, and the checkpoint is their quantization`, async () => {
    const mergedDense = mergedDenseFolder(name);
    const goldens = goldenPrompts(path.join(loraDir(name), 'golden_logits.safetensors'));
    const merged = openModel(mergedDense);
    for (const { ids, logits } of goldens) {
      const err = maxAbsDiff(await merged.logits(ids), logits);
      assert.ok(err < 1e-4, `merged fp32 weights vs PEFT: ${ids.length} tokens, max |Δlogit| ${err}`);
    }
    const config = { quant_method: 'gptq', bits: 8, group_size: 128 };
    const fromAdapter = path.join(tmp, `${name}-merge-then-quantize`);
    const fromMerged = path.join(tmp, `${name}-quantized-merged`);
    await quantizeModel({ model: tinyLlamaDir, config, algorithm: 'rtn', out: fromAdapter, adapter: loraDir(name) });
    await quantizeModel({ model: mergedDense, config, algorithm: 'rtn', out: fromMerged });
    const a = path.join(fromAdapter, 'model.safetensors');
    const b = path.join(fromMerged, 'model.safetensors');
    const names = readSafetensorsHeader(a).tensors.map((t) => t.name);
    assert.deepEqual(
      names,
      readSafetensorsHeader(b).tensors.map((t) => t.name),
    );
    for (const tensor of names.filter((t) => /_proj\.(qweight|scales|qzeros)$/.test(t)))
      assert.ok(Buffer.from(readTensor(a, tensor).data.buffer).equals(Buffer.from(readTensor(b, tensor).data.buffer)), tensor);
    // The checkpoint runs as the adapted model up to 8-bit rounding (max |Δlogit| 0.2–0.4 here), far from the base
    // model's distance to it (8–14).
    const model = openModel(fromAdapter);
    const base = openModel(tinyLlamaDir);
    for (const { ids, logits } of goldens) {
      const err = maxAbsDiff(await model.logits(ids), logits);
      const baseErr = maxAbsDiff(await base.logits(ids), logits);
      assert.ok(err < 0.5 && err < baseErr / 10, `8-bit merged checkpoint vs PEFT: max |Δlogit| ${err} (base model: ${baseErr})`);
    }
  });

/** A copy of the r8 adapter with its config changed (or a file replaced), for the refusals. */
function variant(label: string, edit: (config: Record<string, unknown>) => void, files: Record<string, string | null> = {}): string {
  const dir = path.join(tmp, label);
  fs.cpSync(loraDir('tiny-llama-r8'), dir, { recursive: true });
  const file = path.join(dir, 'adapter_config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(config);
  fs.writeFileSync(file, JSON.stringify(config));
  for (const [name, text] of Object.entries(files)) {
    if (text === null) fs.rmSync(path.join(dir, name));
    else fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** The r8 adapter with one more tensor (e.g. an embedding's factors). */
function withExtraTensor(label: string, tensor: TensorToWrite): string {
  const dir = variant(label, () => undefined);
  const file = path.join(dir, 'adapter_model.safetensors');
  const kept = readSafetensorsHeader(file).tensors.map(({ name }) => {
    const t = readTensor(file, name);
    return { name, dtype: t.dtype, shape: t.shape, data: t.data };
  });
  writeSafetensors(file, [...kept, tensor]);
  return dir;
}

const refusals: [string, () => string, RegExp][] = [
  ['use_dora', () => variant('dora', (c) => (c.use_dora = true)), /adapter_config\.json: use_dora: DoRA .* is not supported/],
  ['bias "all"', () => variant('bias', (c) => (c.bias = 'all')), /adapter_config\.json: bias is "all"; only "none" is supported/],
  [
    'modules_to_save',
    () => variant('save', (c) => (c.modules_to_save = ['lm_head'])),
    /adapter_config\.json: modules_to_save: .* is not supported/,
  ],
  ['fan_in_fan_out', () => variant('fan', (c) => (c.fan_in_fan_out = true)), /adapter_config\.json: fan_in_fan_out: .* is not supported/],
  [
    'peft_type other than LORA',
    () => variant('ia3', (c) => (c.peft_type = 'IA3')),
    /adapter_config\.json: peft_type is "IA3"; only "LORA" adapters are supported/,
  ],
  [
    'a rank that disagrees with the tensors',
    () => variant('rank', (c) => (c.rank_pattern = { q_proj: 4 })),
    /adapter_model\.safetensors: base_model\.model\.model\.layers\.\d\.self_attn\.q_proj\.lora_A\.weight has shape \[8, 256\], the model needs \[4, 256\]/,
  ],
  [
    'LoRA on an embedding',
    () =>
      withExtraTensor('embedding', {
        name: 'base_model.model.model.embed_tokens.lora_embedding_A',
        dtype: 'F32',
        shape: [8, 4096],
        data: new Float32Array(8 * 4096),
      }),
    /adapter_model\.safetensors: base_model\.model\.model\.embed_tokens\.lora_embedding_A is LoRA on an embedding; only LoRA on linear layers/,
  ],
  [
    'a module the model does not have',
    () =>
      withExtraTensor('missing-module', {
        name: 'base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight',
        dtype: 'F32',
        shape: [8, 256],
        data: new Float32Array(8 * 256),
      }),
    /lora_A\.weight adapts model\.layers\.9\.self_attn\.q_proj, which is not a linear layer of this model/,
  ],
  [
    'a missing adapter_config.json',
    () => variant('no-config', () => undefined, { 'adapter_config.json': null }),
    /adapter_config\.json: cannot read/,
  ],
  [
    'a malformed adapter_config.json',
    () => variant('bad-json', () => undefined, { 'adapter_config.json': '{"r": 8,' }),
    /adapter_config\.json: not valid JSON/,
  ],
  [
    'missing adapter weights',
    () => variant('no-weights', () => undefined, { 'adapter_model.safetensors': null }),
    /adapter_model\.safetensors: the adapter weights are missing/,
  ],
  [
    'malformed adapter weights',
    () => variant('bad-weights', () => undefined, { 'adapter_model.safetensors': 'not a safetensors file' }),
    /adapter_model\.safetensors/,
  ],
];
for (const [what, make, message] of refusals)
  test(`an adapter with ${what} is refused, naming the file and what is wrong`, () => {
    const dir = make();
    assert.throws(() => openModel(tinyLlamaDir, { adapter: dir }), message);
  });

test('opening and merging an adapter never writes into the adapter or the model folder', async () => {
  const listing = (dir: string): string[] =>
    fs.readdirSync(dir).map((f) => `${f} ${fs.statSync(path.join(dir, f)).size} ${fs.statSync(path.join(dir, f)).mtimeMs}`);
  const adapter = loraDir('tiny-llama-r8');
  const before = [listing(adapter), listing(tinyLlamaDir)];
  await openModel(tinyLlamaDir, { adapter }).logits([1, 2, 3]);
  await quantizeModel({
    model: tinyLlamaDir,
    config: { quant_method: 'gptq', bits: 8, group_size: 128 },
    algorithm: 'rtn',
    out: path.join(tmp, 'untouched'),
    adapter,
  });
  assert.deepEqual([listing(adapter), listing(tinyLlamaDir)], before);
});
