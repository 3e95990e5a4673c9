// The memory estimate's weight bytes against checkpoints the upstream tools wrote themselves
// (test/fixtures/upstream-written/): the unquantized model those tools started from, estimated under the
// quantization_config they wrote, costs exactly the tensor bytes of their safetensors file.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { architectureOf, estimateMemory, moduleOf, resolveModel } from '../../native/model';
import type { Architecture, JsonObject, TensorMeta } from '../../native/model';
import { repoRoot } from './runtime-fixtures';

const fixturesDir = join(repoRoot, 'test', 'fixtures', 'upstream-written');

/** Tensors that only a quantized Linear has: GPTQ/AWQ codes, bitsandbytes 4-bit quant state, LLM.int8 row scales,
 *  compressed-tensors' packed codes. */
const QUANTIZED_MARK = /\.(qweight|weight\.quant_state\.[^.]+|SCB|weight_packed)$/;

/** [out, in] of a Llama Linear, by its leaf name. */
function linearShape(leaf: string, a: Architecture): [number, number] {
  const q = a.heads * a.headDim;
  const kv = a.kvHeads * a.headDim;
  const shapes: Record<string, [number, number]> = {
    q_proj: [q, a.hidden],
    k_proj: [kv, a.hidden],
    v_proj: [kv, a.hidden],
    o_proj: [a.hidden, q],
    gate_proj: [a.intermediate, a.hidden],
    up_proj: [a.intermediate, a.hidden],
    down_proj: [a.hidden, a.intermediate],
  };
  const shape = shapes[leaf];
  if (!shape) throw new Error(`no Llama Linear named ${leaf}`);
  return shape;
}

/** The checkpoint before quantization: each quantized Linear's tensors replaced by one fp16 [out, in] weight. */
function unquantizedView(tensors: readonly TensorMeta[], arch: Architecture): TensorMeta[] {
  const quantized = new Set(tensors.filter((t) => QUANTIZED_MARK.test(t.name)).map((t) => moduleOf(t.name)));
  const kept = tensors.filter((t) => !quantized.has(moduleOf(t.name)));
  const weights = [...quantized].map((module): TensorMeta => {
    const shape = linearShape(module.split('.').pop() ?? module, arch);
    return { name: `${module}.weight`, dtype: 'F16', shape, bytes: 2 * shape[0] * shape[1], file: 'model.safetensors' };
  });
  assert.ok(weights.length > 0, 'no quantized Linear found');
  return [...kept, ...weights];
}

const folders = readdirSync(fixturesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('upstream-written fixtures exist', () => {
  assert.ok(folders.length >= 17, `only ${folders.join(', ')}`);
});

for (const folder of folders) {
  test(`estimate of upstream-written ${folder} = its tensor bytes`, async () => {
    const resolved = await resolveModel(join(fixturesDir, folder), { env: {} });
    assert.ok(resolved.ok, JSON.stringify(resolved));
    const { model } = resolved;
    const arch = architectureOf(model.config, folder);
    assert.ok(arch.ok);
    const written = model.tensors.reduce((a, t) => a + t.bytes, 0);
    const config = model.config.quantization_config as JsonObject;
    const estimate = estimateMemory({ ...model, tensors: unquantizedView(model.tensors, arch.value) }, config, { batch: 1, seq: 16 });
    assert.ok(estimate.ok, JSON.stringify(estimate));
    // Double-quantized bitsandbytes stores nested_offset, a float whose printed length varies, in each quant-state
    // JSON; the estimate counts a typical 19 characters for it (model/quantizedLayout.ts).
    const slack = config.bnb_4bit_use_double_quant === true ? 4 * model.tensors.filter((t) => t.name.includes('quant_state')).length : 0;
    assert.ok(
      Math.abs(estimate.value.weightsBytes - written) <= slack,
      `${folder}: estimated ${estimate.value.weightsBytes} B, written ${written} B (slack ${slack})`,
    );
  });
}
