import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { calibrationTexts, calibrationWindows, sampleWindows } from '../../native/lib/calibration';
import { checkpointConfig, unpackLayer } from '../../native/lib/formats';
import { f16ToF32, f32ToF16, readSafetensorsHeader, readTensorFloat32 } from '../../native/lib/io';
import { GroupResult, quantize } from '../../native/lib/quant';
import { loadAddon } from '../../native/lib/addon';
import { cancelFlag } from '../../native/lib/groupQuantized';
import {
  PipelineAddon,
  PipelinePlan,
  QuantizeConfigError,
  QuantizeProgress,
  planFromConfig,
  quantizeModel,
} from '../../native/lib/quantize';
import { readRuntimeConfigWithText } from '../../native/model';
import { RuntimeModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';
import { denseCopy, folderHash, removeTempDirs, tempDir, tensorTable } from './pipeline-fixtures';
import { repoRoot, tinyLlamaDir } from './runtime-fixtures';
import { LLAMA_LAYER_LINEARS } from '../helpers/llamaLinears';

after(removeTempDirs);

const sourceHash = folderHash(tinyLlamaDir);
const sourceConfig = JSON.parse(fs.readFileSync(path.join(tinyLlamaDir, 'config.json'), 'utf8')) as Record<string, unknown>;

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

test('RTN 4-bit g128 writes the GPTQ v1 layout: exact tensor table, configs and copied files', async () => {
  const out = path.join(tempDir('rtn'), 'out');
  const events: QuantizeProgress[] = [];
  const r = await quantizeModel(
    { model: tinyLlamaDir, config: { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true }, algorithm: 'rtn', out },
    { onProgress: (p) => events.push(p) },
  );
  assert.equal(r.out, out);
  assert.deepEqual(
    r.layers.map((l) => l.name),
    [0, 1, 2, 3].map((i) => `model.layers.${i}`),
  );
  assert.ok(
    r.layers.every((l) => l.errorKind === 'weight' && l.error > 0 && l.error < 0.05),
    JSON.stringify(r.layers),
  );
  assert.deepEqual(
    events.filter((e) => e.phase === 'layer').map((e) => `${e.done}/${e.total}`),
    ['1/4', '2/4', '3/4', '4/4'],
  );
  assert.equal(events.at(-1)?.phase, 'done');

  const expected = new Map<string, { dtype: string; shape: number[] }>();
  for (const [name, info] of tensorTable(tinyLlamaDir)) {
    const linear = LLAMA_LAYER_LINEARS.find((role) => name.endsWith(`.${role}.weight`) && name.startsWith('model.layers.'));
    if (!linear) {
      expected.set(name, info);
      continue;
    }
    const prefix = name.slice(0, -'.weight'.length);
    const [rows, cols] = info.shape;
    expected.set(`${prefix}.qweight`, { dtype: 'I32', shape: [cols / 8, rows] });
    expected.set(`${prefix}.qzeros`, { dtype: 'I32', shape: [cols / 128, rows / 8] });
    expected.set(`${prefix}.scales`, { dtype: 'F16', shape: [cols / 128, rows] });
    expected.set(`${prefix}.g_idx`, { dtype: 'I32', shape: [cols] });
  }
  const written = tensorTable(out);
  assert.deepEqual([...written.keys()].sort(), [...expected.keys()].sort());
  for (const [name, info] of expected) assert.deepEqual(written.get(name), info, name);

  const files = fs.readdirSync(out).sort();
  assert.deepEqual(files, [
    'config.json',
    'generation_config.json',
    'model.safetensors',
    'quantize_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  const cc = checkpointConfig('gptq', {
    bits: 4,
    groupSize: 128,
    descAct: false,
    sym: true,
    dampPercent: 0.1,
    trueSequential: true,
    staticGroups: false,
  });
  assert.deepEqual(readJson(path.join(out, 'config.json')), { ...sourceConfig, quantization_config: cc.quantizationConfig });
  assert.deepEqual(readJson(path.join(out, 'quantize_config.json')), JSON.parse(cc.sideFile?.text ?? 'null'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
    assert.ok(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(tinyLlamaDir, f))), f);
  }
  assert.equal(
    r.bytes,
    files.reduce((s, f) => s + fs.statSync(path.join(out, f)).size, 0),
  );
  assert.equal(folderHash(tinyLlamaDir), sourceHash);
});

test('a written GPTQ layer unpacks to exactly RTN of the original weight', async () => {
  const out = path.join(tempDir('rtn-exact'), 'out');
  await quantizeModel({ model: tinyLlamaDir, config: { quant_method: 'gptq', bits: 4, group_size: 128 }, algorithm: 'rtn', out });
  for (const prefix of ['model.layers.2.mlp.down_proj', 'model.layers.0.self_attn.k_proj']) {
    const w = readTensorFloat32(tinyLlamaDir, `${prefix}.weight`);
    const [rows, cols] = w.shape;
    const rtn = (await quantize('rtn', w.data, rows, cols, { bits: 4, groupSize: 128, sym: true })) as GroupResult;
    const unpacked = unpackLayer('gptq', out, prefix, { bits: 4, groupSize: 128 }) as GroupResult;
    assert.deepEqual(unpacked.q, rtn.q, `${prefix} codes`);
    assert.deepEqual(unpacked.zeros, rtn.zeros, `${prefix} zeros`);
    assert.deepEqual(unpacked.gIdx, rtn.gIdx, `${prefix} g_idx`);
    assert.deepEqual(unpacked.scales, f16ToF32(f32ToF16(rtn.scales)), `${prefix} scales (stored as fp16)`);
  }
});

test('weights past maxShardBytes are sharded with an index naming every tensor', async () => {
  const out = path.join(tempDir('shards'), 'out');
  await quantizeModel({
    model: tinyLlamaDir,
    config: { quant_method: 'gptq', bits: 4, group_size: 128 },
    algorithm: 'rtn',
    out,
    maxShardBytes: 1 << 20,
  });
  const index = readJson(path.join(out, 'model.safetensors.index.json')) as {
    metadata: { total_size: number };
    weight_map: Record<string, string>;
  };
  const shards = fs
    .readdirSync(out)
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
  assert.ok(shards.length > 1 && !shards.includes('model.safetensors'), shards.join());
  assert.deepEqual(
    shards,
    shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`),
  );
  const table = tensorTable(out);
  assert.deepEqual(Object.keys(index.weight_map).sort(), [...table.keys()].sort());
  let total = 0;
  for (const shard of shards) {
    for (const t of readSafetensorsHeader(path.join(out, shard)).tensors) {
      assert.equal(index.weight_map[t.name], shard, t.name);
      total += t.byteLength;
    }
  }
  assert.equal(index.metadata.total_size, total);
  // Reading through the index gives the same tensor as the unsharded source.
  const a = readTensorFloat32(out, 'model.embed_tokens.weight');
  const b = readTensorFloat32(tinyLlamaDir, 'model.embed_tokens.weight');
  assert.deepEqual(a.data, b.data);
});

test('cancelling mid-run rejects with AbortError and leaves no folder (nor temp folder) behind', async () => {
  const parent = tempDir('cancel');
  const out = path.join(parent, 'out');
  const controller = new AbortController();
  await assert.rejects(
    quantizeModel(
      { model: tinyLlamaDir, config: { quant_method: 'gptq', bits: 4, group_size: 128 }, out, calibration: { nsamples: 4, seqlen: 64 } },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'layer' && p.done === 1) controller.abort();
        },
      },
    ),
    (e: Error) => e.name === 'AbortError',
  );
  assert.deepEqual(fs.readdirSync(parent), []);
  assert.equal(folderHash(tinyLlamaDir), sourceHash);
});

test('a group size that does not divide in_features is refused before any work, naming the layer', async () => {
  const parent = tempDir('badgroup');
  const out = path.join(parent, 'out');
  await assert.rejects(
    quantizeModel({ model: tinyLlamaDir, config: { quant_method: 'gptq', bits: 4, group_size: 96 }, algorithm: 'rtn', out }),
    /model\.layers\.0\.self_attn\.q_proj.*in_features 256 is not divisible by group_size 96/,
  );
  assert.deepEqual(fs.readdirSync(parent), []);
});

test('the layouts table refuses what a layout cannot hold before any work: method, width, name', async () => {
  const parent = tempDir('badlayout');
  const { config: model, text: sourceConfigJson } = readRuntimeConfigWithText(tinyLlamaDir);
  const addon = loadAddon() as PipelineAddon;
  const run = async (plan: Partial<PipelinePlan>) =>
    addon.quantizePipeline(
      {
        method: 'rtn',
        layout: 'gptq',
        skipModules: [],
        ...plan,
        source: tinyLlamaDir,
        out: path.join(parent, 'out'),
        overwrite: false,
        model,
        sourceConfigJson,
        maxShardBytes: 0,
      },
      () => undefined,
      cancelFlag(undefined),
    );
  await assert.rejects(run({ method: 'nf4', layout: 'bnb8' }), /the method and the checkpoint layout do not match/);
  await assert.rejects(run({ method: 'rtn', layout: 'bnb4' }), /the method and the checkpoint layout do not match/);
  await assert.rejects(
    run({ layout: 'awq-gemv', bits: 3, groupSize: 128 }),
    /the awq-gemv layout holds 4-bit weights only \(bits 3\); use bits 4, or the gptq layout$/,
  );
  await assert.rejects(
    run({ layout: 'gptq', bits: 5, groupSize: 128 }),
    /the gptq layout holds 2, 3, 4 or 8-bit weights only \(bits 5\); use bits 2, 3, 4 or 8$/,
  );
  await assert.rejects(run({ layout: 'awq' as never }), /layout must be gptq, awq-gemm, awq-gemv, bnb4 or bnb8 \(got "awq"\)/);
  // A layout the runtime only loads is no layout the pipeline writes.
  await assert.rejects(
    run({ layout: 'ct-pack-quantized' }),
    /layout must be gptq, awq-gemm, awq-gemv, bnb4 or bnb8 \(got "ct-pack-quantized"\)/,
  );
  assert.deepEqual(fs.readdirSync(parent), []);
});

test('writing into the source model folder is refused and the source stays untouched', async () => {
  await assert.rejects(
    quantizeModel({ model: tinyLlamaDir, config: { quant_method: 'gptq' }, algorithm: 'rtn', out: path.join(tinyLlamaDir, 'quantized') }),
    /inside the source model folder/,
  );
  assert.equal(folderHash(tinyLlamaDir), sourceHash);
});

test('modules_to_not_convert keeps those linears dense', async () => {
  const out = path.join(tempDir('skip'), 'out');
  await quantizeModel({
    model: tinyLlamaDir,
    config: {
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      modules_to_not_convert: ['mlp.down_proj', 'model.layers.0.self_attn.q_proj'],
    },
    algorithm: 'rtn',
    out,
  });
  const table = tensorTable(out);
  for (let i = 0; i < 4; i++) {
    assert.equal(table.get(`model.layers.${i}.mlp.down_proj.weight`)?.dtype, 'F16');
    assert.equal(table.has(`model.layers.${i}.mlp.down_proj.qweight`), false);
    assert.equal(table.has(`model.layers.${i}.self_attn.q_proj.qweight`), i !== 0);
  }
  assert.deepEqual((readJson(path.join(out, 'config.json')).quantization_config as Record<string, unknown>).modules_to_not_convert, [
    'mlp.down_proj',
    'model.layers.0.self_attn.q_proj',
  ]);
});

test('configs map to the engine plan; contradictions are errors naming the key', () => {
  assert.deepEqual(
    planFromConfig({ quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_compute_dtype: 'bfloat16' }),
    {
      method: 'nf4',
      layout: 'bnb4',
      doubleQuant: false,
      computeDtype: 'bfloat16',
      skipModules: [],
    },
  );
  assert.deepEqual(
    planFromConfig({ quant_method: 'awq', w_bit: 4, q_group_size: 64, zero_point: true, version: 'GEMV' }).layout,
    'awq-gemv',
  );
  assert.throws(
    () => planFromConfig({ quant_method: 'awq', version: 'exllama' }),
    /quantization_config\.version: "exllama" must be gemm or gemv/,
  );
  assert.equal(planFromConfig({ quant_method: 'gptq', bits: 3 }, 'gptq').bits, 3);
  assert.throws(() => planFromConfig({ quant_method: 'gptq' }, 'awq'), QuantizeConfigError);
  assert.throws(
    () => planFromConfig({ quant_method: 'bitsandbytes', load_in_4bit: true, load_in_8bit: true }),
    /exactly one of load_in_4bit and load_in_8bit/,
  );
  assert.throws(() => planFromConfig({ quant_method: 'gptq', group_size: '128' }), /quantization_config\.group_size: must be a number/);
  assert.throws(
    () => planFromConfig({ quant_method: 'gptq', checkpoint_format: 'bitblas' }),
    /checkpoint_format: "bitblas" is not written/,
  );
});

test('calibration windows: seeded, contiguous slices of the tokenized text', () => {
  const tokens = Array.from({ length: 1000 }, (_, i) => i);
  const a = sampleWindows(tokens, 8, 32, 0);
  assert.deepEqual(a, sampleWindows(tokens, 8, 32, 0));
  assert.notDeepEqual(a, sampleWindows(tokens, 8, 32, 1));
  for (let s = 0; s < 8; s++) {
    const start = a[s * 32];
    assert.ok(start >= 0 && start <= 1000 - 32);
    for (let i = 0; i < 32; i++) assert.equal(a[s * 32 + i], start + i);
  }
  assert.throws(() => sampleWindows(tokens.slice(0, 10), 1, 32, 0), /10 tokens, fewer than seqlen 32/);

  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  const texts = ['The tower is 324 metres tall.', 'It was the tallest structure in the world for 41 years.'];
  const w = calibrationWindows(tokenizer, { dataset: texts, nsamples: 3, seqlen: 8, seed: 0 });
  const all = tokenizer.encode(texts.join('\n\n'));
  assert.equal(w.sourceTokens, all.length);
  assert.deepEqual(w.ids, sampleWindows(all, 3, 8, 0));

  const jsonl = path.join(tempDir('jsonl'), 'calib.jsonl');
  fs.writeFileSync(jsonl, '{"text": "first"}\n\n{"text": "second"}\n');
  assert.deepEqual(calibrationTexts(jsonl).texts, ['first', 'second']);
  fs.writeFileSync(jsonl, '{"text": "first"}\n{"content": 1}\n');
  assert.throws(() => calibrationTexts(jsonl), /calib\.jsonl:2: has no string "text" field/);
  assert.throws(() => calibrationTexts('c4'), /neither the built-in "wikitext2" nor an existing file/);
});

test('OPT (LayerNorm with bias, fc1/fc2) and Qwen2 (q/k/v bias) go through GPTQ and AWQ and reload', async () => {
  const tokens = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 97) + 3);
  const ids = tokens.slice(0, 64);
  for (const name of ['opt-random', 'qwen2-random']) {
    const source = path.join(repoRoot, 'test', 'fixtures', name);
    const before = folderHash(source);
    for (const quantMethod of ['gptq', 'awq']) {
      const out = path.join(tempDir(`${name}-${quantMethod}`), 'out');
      const r = await quantizeModel({
        model: source,
        config: { quant_method: quantMethod, bits: 4, group_size: 32 },
        out,
        calibration: { tokens, nsamples: 4, seqlen: 32 },
      });
      assert.ok(
        r.layers.every((l) => l.errorKind === 'output' && l.error > 0 && l.error < 0.05),
        `${name} ${quantMethod}: ${JSON.stringify(r.layers)}`,
      );
      const dense = path.join(tempDir(`${name}-${quantMethod}-dense`), 'out');
      await denseCopy(out, dense);
      const direct = (await RuntimeModel.open(out).perplexity(ids, { seq: 32 })).perplexity;
      const viaDense = (await RuntimeModel.open(dense).perplexity(ids, { seq: 32 })).perplexity;
      assert.ok(Math.abs(direct - viaDense) < 1e-3 * viaDense, `${name} ${quantMethod}: ${direct} vs ${viaDense}`);
      if (name === 'opt-random' && quantMethod === 'awq') {
        // The q/k/v scales are folded into the LayerNorm's weight and bias.
        const bias = 'model.decoder.layers.0.self_attn_layer_norm.bias';
        assert.notDeepEqual(readTensorFloat32(out, bias).data, readTensorFloat32(source, bias).data);
      }
    }
    assert.equal(folderHash(source), before);
  }
});
