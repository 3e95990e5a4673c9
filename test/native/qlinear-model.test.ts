// End to end: tiny-llama with every decoder linear quantized and written as a GPTQ (also with GPTQModel 7.7's
// per-module `dynamic`: other bits and group size per module, modules left in float), AWQ (GEMM, GEMV) or
// bitsandbytes (NF4, int8) checkpoint opens in the runtime through the registered loaders, and its logits
// equal the dense runtime on the same dequantized weights stored as fp32; GPTQ 4-bit g128 (RTN) keeps
// its perplexity near the fp16 model's.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';

import { ConfigOptions, FormatName, checkpointConfig, packLayer, unpackLayer } from '../../native/lib/formats';
import { TensorToWrite, readSafetensorsHeader, readTensor, readTensorFloat32, writeSafetensors } from '../../native/lib/io';
import { textPerplexity, wikitext2TestPath } from '../../native/lib/perplexity';
import { QuantResult, dequantize, quantize } from '../../native/lib/quant';
import { openModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';
import { tinyLlamaDir } from './runtime-fixtures';
import { createLanguageService } from '../../server/src/service';
import { doctorFolder } from '../../native/model';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-qlinear-model-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const source = path.join(tinyLlamaDir, 'model.safetensors');
const baseConfig = JSON.parse(fs.readFileSync(path.join(tinyLlamaDir, 'config.json'), 'utf8')) as Record<string, unknown>;
const linearWeight = /^model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/;

interface Recipe {
  format: FormatName;
  quantize: (w: Float32Array, rows: number, cols: number, prefix: string) => Promise<QuantResult>;
  config: ConfigOptions;
  /** Per module: how to read it back, or undefined for a module left as stored. */
  unpack: { bits?: number; groupSize?: number } | ((prefix: string) => { bits?: number; groupSize?: number } | undefined);
  /** GPTQModel's per-module overrides written into the config. */
  dynamic?: Record<string, Record<string, unknown>>;
}

// GPTQModel 7.7 `dynamic`: every down_proj and the first q_proj at 8-bit g32, layer 1's attention left in float, the rest at 4-bit g128.
const DYNAMIC_EIGHT_BIT = /(\.mlp\.down_proj|^model\.layers\.0\.self_attn\.q_proj)$/;
const DYNAMIC_SKIPPED = /^model\.layers\.1\.self_attn\./;
const dynamicUnpack = (prefix: string): { bits: number; groupSize: number } | undefined =>
  DYNAMIC_SKIPPED.test(prefix) ? undefined : DYNAMIC_EIGHT_BIT.test(prefix) ? { bits: 8, groupSize: 32 } : { bits: 4, groupSize: 128 };

const recipes: Record<string, Recipe> = {
  'GPTQ 4-bit g128': {
    format: 'gptq',
    config: { bits: 4, groupSize: 128 },
    unpack: { bits: 4, groupSize: 128 },
    quantize: (w, rows, cols) => quantize('rtn', w, rows, cols, { bits: 4, groupSize: 128, sym: true }),
  },
  'GPTQ with dynamic (8-bit g32 down_proj and first q_proj, layer 1 attention unquantized, 4-bit g128 elsewhere)': {
    format: 'gptq',
    config: { bits: 4, groupSize: 128 },
    dynamic: {
      '-:model\\.layers\\.1\\.self_attn\\.': {},
      '+:.*mlp\\.down_proj|model\\.layers\\.0\\.self_attn\\.q_proj': { bits: 8, group_size: 32 },
    },
    unpack: dynamicUnpack,
    quantize: (w, rows, cols, prefix) => quantize('rtn', w, rows, cols, { ...dynamicUnpack(prefix)!, sym: true }),
  },
  'AWQ GEMM 4-bit g64': {
    format: 'awq-gemm',
    config: { bits: 4, groupSize: 64 },
    unpack: { groupSize: 64 },
    quantize: (w, rows, cols) => quantize('rtn', w, rows, cols, { bits: 4, groupSize: 64, sym: false }),
  },
  'AWQ GEMV 4-bit g128': {
    format: 'awq-gemv',
    config: { bits: 4, groupSize: 128 },
    unpack: { groupSize: 128 },
    quantize: (w, rows, cols) => quantize('rtn', w, rows, cols, { bits: 4, groupSize: 128, sym: false }),
  },
  'bitsandbytes NF4 double quant': {
    format: 'bnb4',
    config: { quantType: 'nf4', doubleQuant: true },
    unpack: {},
    quantize: (w, rows, cols) => quantize('nf4', w, rows, cols, { blocksize: 64, doubleQuant: true }),
  },
  'bitsandbytes int8': {
    format: 'bnb8',
    config: {},
    unpack: {},
    quantize: (w, rows, cols) => quantize('int8', w, rows, cols),
  },
};

/** Writes tiny-llama with every decoder linear quantized (config.json with quantization_config, packed
 *  tensors, the rest untouched) and, beside it, the same model with those linears as the fp32 Ŵ that the
 *  format's unpacker reads back (fp16 scales included). Returns both folders. */
async function writeFolders(label: string, recipe: Recipe): Promise<{ quantDir: string; denseDir: string }> {
  const folder = `${recipe.format}${recipe.dynamic ? '-dynamic' : ''}`;
  const quantDir = path.join(tmp, `${folder}-quant`);
  const denseDir = path.join(tmp, `${folder}-dense`);
  const untouched: TensorToWrite[] = [];
  const packed: TensorToWrite[] = [];
  const quantized: { prefix: string; shape: number[] }[] = [];
  for (const { name } of readSafetensorsHeader(source).tensors) {
    if (!linearWeight.test(name)) {
      const t = readTensor(source, name);
      untouched.push({ name, dtype: t.dtype, shape: t.shape, data: t.data });
      continue;
    }
    const prefix = name.slice(0, -'.weight'.length);
    if (!unpackOf(recipe, prefix)) {
      const t = readTensor(source, name);
      untouched.push({ name, dtype: t.dtype, shape: t.shape, data: t.data });
      continue;
    }
    const { shape, data } = readTensorFloat32(source, name);
    packed.push(...packLayer(recipe.format, prefix, await recipe.quantize(data, shape[0], shape[1], prefix)));
    quantized.push({ prefix, shape });
  }
  assert.equal(quantized.length, recipe.dynamic ? 4 * 7 - 4 : 4 * 7, label);
  fs.mkdirSync(quantDir);
  const written = checkpointConfig(recipe.format, recipe.config).quantizationConfig;
  const quantizationConfig = recipe.dynamic ? { ...written, dynamic: recipe.dynamic } : written;
  fs.writeFileSync(path.join(quantDir, 'config.json'), JSON.stringify({ ...baseConfig, quantization_config: quantizationConfig }, null, 2));
  writeSafetensors(path.join(quantDir, 'model.safetensors'), [...untouched, ...packed]);

  fs.mkdirSync(denseDir);
  fs.writeFileSync(path.join(denseDir, 'config.json'), JSON.stringify(baseConfig, null, 2));
  const dense = quantized.map(({ prefix, shape }): TensorToWrite => ({
    name: `${prefix}.weight`,
    dtype: 'F32',
    shape,
    data: dequantize(unpackLayer(recipe.format, quantDir, prefix, unpackOf(recipe, prefix))),
  }));
  writeSafetensors(path.join(denseDir, 'model.safetensors'), [...untouched, ...dense]);
  return { quantDir, denseDir };
}

/** The language service's error and warning codes on a checkpoint folder's config.json, its own model resolved. */
async function editorFindings(folder: string): Promise<string[]> {
  const service = createLanguageService({ models: { hub: { env: {}, hubCacheDir: path.join(tmp, 'hf-cache') } } });
  const doc = {
    uri: pathToFileURL(path.join(folder, 'config.json')).href,
    text: fs.readFileSync(path.join(folder, 'config.json'), 'utf8'),
  };
  await service.resolveModel(doc);
  return (await service.diagnose(doc)).filter((d) => d.severity <= 2).map((d) => `${d.code}: ${d.message}`);
}

function unpackOf(recipe: Recipe, prefix: string): { bits?: number; groupSize?: number } | undefined {
  return typeof recipe.unpack === 'function' ? recipe.unpack(prefix) : recipe.unpack;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const ids = Array.from({ length: 24 }, (_, i) => (i * 977 + 13) % 4096);
let gptqDir = '';

for (const [label, recipe] of Object.entries(recipes)) {
  test(`${label} tiny-llama opens in the runtime and gives the logits of the dense runtime on the same dequantized weights`, async () => {
    const { quantDir, denseDir } = await writeFolders(label, recipe);
    if (recipe.format === 'gptq' && !recipe.dynamic) gptqDir = quantDir;
    // The editor reads the per-module settings too: the first packed module (8-bit) is not held against bits 4.
    if (recipe.dynamic) assert.deepEqual(await editorFindings(quantDir), []);
    // The doctor does not judge per-module settings by the whole config's: a note, no fix (config.json is the one config here).
    if (recipe.dynamic)
      assert.deepEqual(
        (await doctorFolder(quantDir)).findings.map((f) => [f.code, f.severity, f.file, 'fix' in f]),
        [['config/dynamic', 'info', 'config.json', false]],
      );
    const quant = openModel(quantDir);
    const dense = openModel(denseDir);
    // One token runs the decode GEMV; 24 tokens run the prefill panels.
    for (const input of [ids.slice(0, 1), ids]) {
      const diff = maxAbsDiff(await quant.logits(input), await dense.logits(input));
      assert.ok(diff < 1e-3, `${input.length} tokens: max |Δlogit| ${diff}`);
    }
    // Greedy decoding steps through the KV cache one token at a time.
    const a = await quant.generateIds(ids.slice(0, 8), { maxTokens: 12, stopIds: [] });
    const b = await dense.generateIds(ids.slice(0, 8), { maxTokens: 12, stopIds: [] });
    assert.deepEqual(a.tokens, b.tokens);
  });
}

test('GPTQ 4-bit g128 perplexity on a WikiText-2 prefix stays within 10% of fp16', async () => {
  assert.ok(gptqDir, 'the GPTQ folder is written by the first test');
  const text = fs.readFileSync(wikitext2TestPath(), 'utf8');
  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  const options = { maxTokens: 1024 };
  const fp16 = await textPerplexity(openModel(tinyLlamaDir), tokenizer, text, options);
  const gptq = await textPerplexity(openModel(gptqDir), tokenizer, text, options);
  assert.equal(gptq.predicted, fp16.predicted);
  assert.ok(gptq.perplexity > 0 && gptq.perplexity < fp16.perplexity * 1.1, `GPTQ ${gptq.perplexity} vs fp16 ${fp16.perplexity}`);
});

test('a quantized layer whose shape disagrees with config.json is refused, naming the layer', () => {
  assert.ok(gptqDir, 'the GPTQ folder is written by the first test');
  const wrongDir = path.join(tmp, 'gptq-wrong-config');
  fs.mkdirSync(wrongDir);
  fs.copyFileSync(path.join(gptqDir, 'model.safetensors'), path.join(wrongDir, 'model.safetensors'));
  const config = JSON.parse(fs.readFileSync(path.join(gptqDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(wrongDir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 1024 }));
  assert.throws(() => openModel(wrongDir), /layer model\.layers\.0\.mlp\.gate_proj is \[768, 256\], config\.json implies \[1024, 256\]/);
});
