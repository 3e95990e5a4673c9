// The pipeline's output quality on tiny-llama with a small calibration set (8 × 128 tokens from the bundled
// WikiText-2 validation text): each checkpoint is reloaded through the runtime (its registered quantized
// linears) and through a dense copy of the unpacked tensors, and scored on the first 4096 tokens of the
// WikiText-2 test text (256-token windows). Figures on the full test text are in the README.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { readTensorFloat32 } from '../../native/lib/io';
import { wikitext2TestPath } from '../../native/lib/perplexity';
import { quantizeModel } from '../../native/lib/quantize';
import { RuntimeModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';
import { denseCopy, folderHash, removeTempDirs, tempDir, tensorTable } from './pipeline-fixtures';
import { tinyLlamaDir } from './runtime-fixtures';

after(removeTempDirs);

const calibration = { nsamples: 8, seqlen: 128, seed: 0 };
const ids = TextTokenizer.load(tinyLlamaDir).encode(fs.readFileSync(wikitext2TestPath(), 'utf8').slice(0, 60000)).slice(0, 4096);
const sourceHash = folderHash(tinyLlamaDir);

async function perplexity(folder: string): Promise<number> {
  return (await RuntimeModel.open(folder).perplexity(ids, { seq: 256 })).perplexity;
}

/** Quantizes, then checks the runtime's direct load against the dense copy; returns the perplexity. */
async function quantizeAndScore(
  label: string,
  config: Record<string, unknown>,
  algorithm?: 'rtn',
): Promise<{ ppl: number; out: string; errors: number[] }> {
  const out = path.join(tempDir(label), 'out');
  const r = await quantizeModel({ model: tinyLlamaDir, config, algorithm, out, calibration });
  const dense = path.join(tempDir(`${label}-dense`), 'out');
  await denseCopy(out, dense);
  const ppl = await perplexity(dense);
  const direct = await perplexity(out);
  assert.ok(Math.abs(direct - ppl) < 1e-3 * ppl, `${label}: runtime load ${direct} vs dense copy ${ppl}`);
  return { ppl, out, errors: r.layers.map((l) => l.error) };
}

const fp = perplexity(tinyLlamaDir);

test('GPTQ 4-bit g128 stays close to fp16 and beats RTN on the same text', async () => {
  const base = await fp;
  const rtn = await quantizeAndScore('rtn', { quant_method: 'gptq', bits: 4, group_size: 128 }, 'rtn');
  const gptq = await quantizeAndScore('gptq', { quant_method: 'gptq', bits: 4, group_size: 128 });
  assert.ok(gptq.ppl < rtn.ppl, `GPTQ ${gptq.ppl} vs RTN ${rtn.ppl}`);
  assert.ok(gptq.ppl < base * 1.02, `GPTQ ${gptq.ppl} vs fp16 ${base}`);
  assert.ok(
    gptq.errors.every((e) => e > 0 && e < 0.02),
    gptq.errors.join(),
  );
});

test('GPTQ 3-bit with act-order beats RTN 3-bit', async () => {
  const rtn = await quantizeAndScore('rtn3', { quant_method: 'gptq', bits: 3, group_size: 128 }, 'rtn');
  const gptq = await quantizeAndScore('gptq3', { quant_method: 'gptq', bits: 3, group_size: 128, desc_act: true });
  assert.ok(gptq.ppl < rtn.ppl, `GPTQ ${gptq.ppl} vs RTN ${rtn.ppl}`);
  const gIdx = tensorTable(gptq.out).get('model.layers.0.self_attn.q_proj.g_idx');
  assert.deepEqual(gIdx, { dtype: 'I32', shape: [256] });
});

test('GPTQ 3-bit with GPTAQ beats the same GPTQ without it, in the same layout', async () => {
  // Group-aware order off in both: GPTQModel 7.7's GPTAQ quantizer has none, so only GPTAQ differs.
  const base = { quant_method: 'gptq', bits: 3, group_size: 128, sym: true, mse: 2.4, act_group_aware: false };
  const gptq = await quantizeAndScore('gptq3-mse', base);
  const gptaq = await quantizeAndScore('gptaq3-mse', { ...base, gptaq: { alpha: 0.25 } });
  assert.ok(gptaq.ppl < gptq.ppl, `GPTAQ ${gptaq.ppl} vs GPTQ ${gptq.ppl}`);
  assert.deepEqual(tensorTable(gptaq.out), tensorTable(gptq.out));
  assert.equal(folderHash(tinyLlamaDir), sourceHash);
});

test('AWQ 4-bit writes the GEMM layout with folded norms and stays close to fp16', async () => {
  const base = await fp;
  const awq = await quantizeAndScore('awq', { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' });
  assert.ok(awq.ppl < base * 1.03, `AWQ ${awq.ppl} vs fp16 ${base}`);
  const table = tensorTable(awq.out);
  assert.deepEqual(table.get('model.layers.0.mlp.up_proj.qweight'), { dtype: 'I32', shape: [256, 768 / 8] });
  assert.deepEqual(table.get('model.layers.0.input_layernorm.weight'), { dtype: 'F16', shape: [256] });
  // The q/k/v scales are folded into input_layernorm (the written norm differs from the source one).
  const norm = readTensorFloat32(awq.out, 'model.layers.0.input_layernorm.weight').data;
  const sourceNorm = readTensorFloat32(tinyLlamaDir, 'model.layers.0.input_layernorm.weight').data;
  assert.notDeepEqual(norm, sourceNorm);
  assert.ok(fs.existsSync(path.join(awq.out, 'quant_config.json')));
});

test('NF4 and int8 checkpoints load and stay close to fp16', async () => {
  const base = await fp;
  const nf4 = await quantizeAndScore('nf4', {
    quant_method: 'bitsandbytes',
    load_in_4bit: true,
    bnb_4bit_quant_type: 'nf4',
    bnb_4bit_compute_dtype: 'float16',
  });
  const int8 = await quantizeAndScore('int8', { quant_method: 'bitsandbytes', load_in_8bit: true });
  assert.ok(nf4.ppl < base * 1.03, `NF4 ${nf4.ppl} vs fp16 ${base}`);
  assert.ok(Math.abs(int8.ppl - base) < 0.005 * base, `int8 ${int8.ppl} vs fp16 ${base}`);
  assert.deepEqual(tensorTable(int8.out).get('model.layers.3.mlp.down_proj.SCB'), { dtype: 'F32', shape: [256] });
  assert.equal(tensorTable(nf4.out).get('model.layers.3.mlp.down_proj.weight')?.dtype, 'U8');
  assert.equal(folderHash(tinyLlamaDir), sourceHash);
});
