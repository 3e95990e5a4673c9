// Quantizing Mixture-of-Experts models: every expert's linears packed, routers kept as stored, GPTQ's Hessians and AWQ's
// expert statistics from the tokens routed to each expert (counted per layer), and GPTQModel 7.7's round-to-nearest
// fallback for starved experts (per expert under GPTQ, per scale group under AWQ).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { awqQuantizeLinear } from '../../native/lib/awq';
import { unpackLayer } from '../../native/lib/formats';
import { readSafetensorsHeader, readTensor, readTensorFloat32 } from '../../native/lib/io';
import { idsPerplexity } from '../../native/lib/perplexity';
import { quantizeModel } from '../../native/lib/quantize';
import { openModel } from '../../native/lib/runtime';
import { doctorFolder, readRuntimeConfig } from '../../native/model';
import { removeTempDirs, tempDir } from './pipeline-fixtures';
import { goldenModels, goldenPrompts } from './runtime-fixtures';

after(removeTempDirs);

const fixtures = ['mixtral-random', 'qwen2-moe-random', 'qwen3-moe-random'].map((name) => goldenModels.find((m) => m.name === name)!);
const gptq = { quant_method: 'gptq', bits: 4, group_size: 32, desc_act: false, sym: true };
const awq = { quant_method: 'awq', bits: 4, group_size: 32, version: 'gemm', zero_point: true };
const methods = [
  { label: 'RTN', config: gptq, algorithm: 'rtn' as const, packed: 'qweight', dtype: 'I32' },
  { label: 'RTN into AWQ', config: awq, algorithm: 'rtn' as const, packed: 'qweight', dtype: 'I32' },
  { label: 'GPTQ', config: gptq, algorithm: undefined, packed: 'qweight', dtype: 'I32' },
  { label: 'AWQ', config: awq, algorithm: undefined, packed: 'qweight', dtype: 'I32' },
  {
    label: 'NF4',
    config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' },
    algorithm: undefined,
    packed: 'weight',
    dtype: 'U8',
  },
  { label: 'int8', config: { quant_method: 'bitsandbytes', load_in_8bit: true }, algorithm: undefined, packed: 'weight', dtype: 'I8' },
];
// 16 windows of 64 tokens, spread over the vocabulary.
const calibration = { tokens: Array.from({ length: 1024 }, (_, i) => (i * 7919 + 13) % 1000), nsamples: 16, seqlen: 64 };

/** Layer i's MoE linears in the checkpoint `tree`: GPTQModel 7.7's (every expert quantized, under mlp. and
 *  gate/up/down_proj even for Mixtral; router and shared_expert_gate kept) or transformers 5.23 + bitsandbytes 0.50's
 *  (source names; the shared expert and shared_expert_gate quantized, routed experts and router kept). */
function moeModules(dir: string, i: number, tree: 'gptq' | 'bnb'): { kept: Array<[string, string]>; packed: string[] } {
  const moe = readRuntimeConfig(dir).moe!;
  const source = moe.mixtralNames ? `model.layers.${i}.block_sparse_moe` : `model.layers.${i}.mlp`;
  const written = tree === 'gptq' ? `model.layers.${i}.mlp` : source;
  const sourceNames = moe.mixtralNames ? ['w1', 'w3', 'w2'] : ['gate_proj', 'up_proj', 'down_proj'];
  const writtenNames = tree === 'gptq' ? ['gate_proj', 'up_proj', 'down_proj'] : sourceNames;
  const experts = Array.from({ length: moe.experts }, (_, e) =>
    sourceNames.map((n, k) => [`${written}.experts.${e}.${writtenNames[k]}`, `${source}.experts.${e}.${n}`]),
  );
  const shared =
    moe.sharedExpertIntermediateSize > 0 ? ['gate_proj', 'up_proj', 'down_proj'].map((n) => `${written}.shared_expert.${n}`) : [];
  const kept: Array<[string, string]> = [[`${written}.gate`, `${source}.gate`]];
  const packed = [...shared];
  if (tree === 'gptq') {
    packed.push(...experts.flat().map(([name]) => name));
    if (shared.length > 0) kept.push([`${written}.shared_expert_gate`, `${source}.shared_expert_gate`]);
  } else {
    kept.push(...(experts.flat() as Array<[string, string]>));
    if (shared.length > 0) packed.push(`${written}.shared_expert_gate`);
  }
  return { kept, packed };
}

for (const fixture of fixtures)
  for (const method of methods) {
    test(`${method.label} on ${fixture.name}: the loading library's experts packed, the rest as stored, the checkpoint runs`, async () => {
      const out = path.join(tempDir(`moe-${method.label}`), 'out');
      const r = await quantizeModel({ model: fixture.dir, config: method.config, algorithm: method.algorithm, out, calibration });
      const config = readRuntimeConfig(fixture.dir);
      const written = path.join(out, 'model.safetensors'),
        source = path.join(fixture.dir, 'model.safetensors');
      const header = new Map(readSafetensorsHeader(written).tensors.map((t) => [t.name, t]));
      for (let i = 0; i < config.layers; i++) {
        if (!config.moe!.sparseLayers[i]) {
          // A dense layer's MLP (Qwen3-MoE's mlp_only_layers): GPTQModel 7.7's MoE tree has none, so GPTQ keeps it.
          const down = header.get(`model.layers.${i}.mlp.down_proj.weight`);
          assert.equal(down?.dtype, method.packed === 'qweight' ? 'BF16' : method.dtype, `layer ${i} down_proj`);
          continue;
        }
        const { kept, packed } = moeModules(fixture.dir, i, method.packed === 'qweight' ? 'gptq' : 'bnb');
        for (const [name, from] of kept) {
          assert.equal(header.get(`${name}.weight`)?.dtype, 'BF16', name);
          assert.deepEqual(readTensor(written, `${name}.weight`).data, readTensor(source, `${from}.weight`).data, name);
        }
        for (const name of packed) assert.equal(header.get(`${name}.${method.packed}`)?.dtype, method.dtype, name);
      }
      // The dense MLPs kept in float are in the written skip key (transformers 5.23 builds float Linears for them),
      // and the doctor finds nothing to add to it or take from it.
      const dense = config.moe!.sparseLayers.flatMap((sparse, i) =>
        sparse ? [] : ['gate_proj', 'up_proj', 'down_proj'].map((p) => `model.layers.${i}.mlp.${p}`),
      );
      const quantization = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).quantization_config;
      const skipKey = method.packed === 'qweight' ? 'modules_to_not_convert' : 'llm_int8_skip_modules';
      const listed: string[] = quantization[skipKey] ?? [];
      if (method.packed === 'qweight')
        for (const m of dense) assert.ok(listed.includes(m), `${skipKey} lists ${m}: ${JSON.stringify(listed)}`);
      else
        assert.deepEqual(
          listed.filter((m) => dense.includes(m)),
          [],
          'bitsandbytes quantizes dense MLPs',
        );
      const skipFindings = (await doctorFolder(out)).findings.filter((f) => f.code === `config/${skipKey}`);
      assert.deepEqual(
        skipFindings.map((f) => f.message),
        [],
      );
      // Tokens per expert: GPTQ and AWQ, on MoE layers, each token counted once per expert it is routed to.
      const calibrated = method.label === 'GPTQ' || method.label === 'AWQ';
      r.layers.forEach((layer, i) => {
        if (!calibrated || !config.moe!.sparseLayers[i]) return assert.equal(layer.expertTokens, undefined, layer.name);
        assert.equal(layer.expertTokens!.length, config.moe!.experts);
        assert.equal(
          layer.expertTokens!.reduce((a, b) => a + b, 0),
          1024 * config.moe!.topK,
          layer.name,
        );
        assert.deepEqual(layer.fallbackExperts, []);
      });
      const logits = await openModel(out).logits([5, 17, 300, 41, 999, 2, 77]);
      assert.ok(logits.every(Number.isFinite));
      if (method.label === 'AWQ') {
        // Sensible: the golden prompts' perplexity within 5 % of the fp model's (measured within 2.2 %).
        const [fp, quantized] = [await goldenPerplexity(fixture.dir, fixture.dir), await goldenPerplexity(out, fixture.dir)];
        assert.ok(Math.abs(quantized - fp) / fp < 0.05, `${fixture.name}: perplexity ${quantized} vs fp ${fp}`);
        // The gate/up scales fold into post_attention_layernorm (the router keeps its weights, checked above).
        const norm = 'model.layers.0.post_attention_layernorm.weight';
        assert.notDeepEqual(readTensor(written, norm).data, readTensor(source, norm).data);
      }
    });
  }

test('GPTQ: an expert under 0.5% of the calibration tokens is quantized round-to-nearest, as GPTQModel 7.7 falls back', async () => {
  const fixture = fixtures[0];
  // One token repeated: every position of layer 0 holds the same hidden state, so two experts get all 1024 tokens and
  // six get none.
  const same = { tokens: Array<number>(1024).fill(5), nsamples: 16, seqlen: 64 };
  const out = path.join(tempDir('moe-fallback'), 'out');
  const r = await quantizeModel({ model: fixture.dir, config: gptq, out, calibration: same });
  const tokens = r.layers[0].expertTokens!;
  assert.deepEqual(
    [...tokens].sort((a, b) => a - b),
    [0, 0, 0, 0, 0, 0, 1024, 1024],
  );
  const starved = tokens.flatMap((n, e) => (n === 0 ? [e] : []));
  assert.deepEqual(r.layers[0].fallbackExperts, starved);
  // The fallen-back experts hold exactly RTN's codes; the calibrated ones GPTQ's, which differ.
  const rtnOut = path.join(tempDir('moe-rtn'), 'out');
  await quantizeModel({ model: fixture.dir, config: gptq, algorithm: 'rtn', out: rtnOut });
  const qweight = (folder: string, e: number) =>
    readTensor(path.join(folder, 'model.safetensors'), `model.layers.0.mlp.experts.${e}.gate_proj.qweight`).data;
  for (const e of starved) assert.deepEqual(qweight(out, e), qweight(rtnOut, e), `expert ${e}`);
  const used = tokens.findIndex((n) => n > 0);
  assert.notDeepEqual(qweight(out, used), qweight(rtnOut, used));
  fs.rmSync(rtnOut, { recursive: true, force: true });
});

/** exp(mean NLL) of the golden prompts' next tokens in our runtime. */
async function goldenPerplexity(folder: string, fixture: string): Promise<number> {
  const model = openModel(folder);
  let nll = 0,
    tokens = 0;
  for (const prompt of goldenPrompts(path.join(fixture, 'golden_logits.safetensors'))) {
    if (prompt.ids.length < 2) continue;
    const r = await idsPerplexity(model, Array.from(prompt.ids));
    nll += Math.log(r.perplexity) * r.predicted;
    tokens += r.predicted;
  }
  return Math.exp(nll / tokens);
}

test('AWQ: an expert calibration never reaches sends the whole gate/up group to round-to-nearest, as GPTQModel 7.7 falls back', async () => {
  const fixture = fixtures[0];
  const same = { tokens: Array<number>(1024).fill(5), nsamples: 16, seqlen: 64 };
  const out = path.join(tempDir('moe-awq-fallback'), 'out');
  const r = await quantizeModel({ model: fixture.dir, config: awq, out, calibration: same });
  const tokens = r.layers[0].expertTokens!;
  assert.deepEqual(
    [...tokens].sort((a, b) => a - b),
    [0, 0, 0, 0, 0, 0, 1024, 1024],
  );
  // Six experts got no token: the one gate/up group (all eight experts) is neither scaled nor clipped.
  assert.deepEqual(r.layers[0].fallbackExperts, [0, 1, 2, 3, 4, 5, 6, 7]);
  const written = path.join(out, 'model.safetensors'),
    source = path.join(fixture.dir, 'model.safetensors');
  const norm = 'model.layers.0.post_attention_layernorm.weight';
  assert.deepEqual(readTensor(written, norm).data, readTensor(source, norm).data);
  // AWQ's own min/max rounding of the source weight, codes and zero points.
  const rtnCodes = async (name: string) => {
    const w = readTensorFloat32(source, `model.layers.0.block_sparse_moe.experts.${name}.weight`);
    const [rows, cols] = w.shape;
    const q = await awqQuantizeLinear(w.data, rows, cols, new Float32Array(cols).fill(1), new Float32Array(0), false, {
      bits: 4,
      groupSize: 32,
    });
    return { q: Array.from(q.quantized.q), zeros: Array.from(q.quantized.zeros) };
  };
  const writtenCodes = (name: string) => {
    const u = unpackLayer('awq-gemm', out, `model.layers.0.mlp.experts.${name}`, { groupSize: 32 });
    assert.ok(u.kind === 'group', name);
    return { q: Array.from(u.q), zeros: Array.from(u.zeros) };
  };
  const used = tokens.flatMap((n, e) => (n > 0 ? [e] : []));
  for (let e = 0; e < 8; e++) {
    assert.deepEqual(writtenCodes(`${e}.gate_proj`), await rtnCodes(`${e}.w1`), `expert ${e} gate_proj`);
    // down_proj: its own group, scaled where its expert had tokens (the scales then divide up_proj's rows).
    const scaled = used.includes(e);
    for (const [name, from] of [
      ['down_proj', 'w2'],
      ['up_proj', 'w3'],
    ]) {
      const same = JSON.stringify(writtenCodes(`${e}.${name}`)) === JSON.stringify(await rtnCodes(`${e}.${from}`));
      assert.equal(same, !scaled, `expert ${e} ${name}: round-to-nearest of the source ${scaled ? 'differs' : 'holds'}`);
    }
  }
});

test('GPTQ with GPTAQ on a Mixture-of-Experts model is refused before any work, leaving nothing', async () => {
  const parent = tempDir('moe-gptaq');
  await assert.rejects(
    quantizeModel({ model: fixtures[0].dir, config: { ...gptq, gptaq: { alpha: 0.25 } }, out: path.join(parent, 'out'), calibration }),
    /gptaq: Mixture-of-Experts models are not supported \(an expert sees different tokens in the full-precision and the quantized model\); remove gptaq/,
  );
  assert.deepEqual(fs.readdirSync(parent), []);
});
