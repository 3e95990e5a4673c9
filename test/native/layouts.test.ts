// The checkpoint layouts table: the engine's (formats/layouts.cc, through formatLayouts()) equals the
// TypeScript twin the estimate and the editor read, and what the packers and the config writer produce
// is what the table says, tensor by tensor.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { test } from 'node:test';

import { CHECKPOINT_LAYOUTS, LayoutName, checkpointLayout, isWritten, quantizedLinearLayout } from '../../native/model';
import { checkpointConfig, formatLayouts, packLayer, unpackLayer } from '../../native/lib/formats';
import { QuantResult, quantize } from '../../native/lib/quant';
import { repoRoot } from './runtime-fixtures';

test("the engine's layouts table equals model/checkpointLayouts.ts, row by row", () => {
  assert.deepEqual(formatLayouts(), CHECKPOINT_LAYOUTS);
});

const rows = 32;
const cols = 64;
const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * 0.05);

/** A real quantizer result for each configuration a layout has. */
async function results(name: LayoutName): Promise<{ label: string; r: QuantResult; doubleQuant: boolean; quantType: string }[]> {
  if (name === 'bnb4') {
    const out = [];
    for (const quantType of ['nf4', 'fp4'] as const) {
      for (const doubleQuant of [false, true])
        out.push({
          label: `${quantType} double ${doubleQuant}`,
          r: await quantize(quantType, w, rows, cols, { doubleQuant }),
          doubleQuant,
          quantType,
        });
    }
    return out;
  }
  if (name === 'bnb8') return [{ label: 'int8', r: await quantize('int8', w, rows, cols), doubleQuant: false, quantType: '' }];
  const out = [];
  for (const bits of checkpointLayout(name).bits) {
    out.push({
      label: `${bits}-bit`,
      r: await quantize('rtn', w, rows, cols, { bits, groupSize: 32, sym: false }),
      doubleQuant: false,
      quantType: '',
    });
  }
  return out;
}

/** The layouts the pipeline writes; the others (compressed-tensors) the runtime only loads. */
const WRITTEN = CHECKPOINT_LAYOUTS.filter((l) => l.engineWrites);

test("each layout's packer writes exactly the table's tensors, in its order and dtypes", async () => {
  for (const layout of WRITTEN) {
    for (const { label, r, doubleQuant, quantType } of await results(layout.name)) {
      assert.equal(r.kind, layout.feed, `${layout.name} ${label}`);
      const packed = packLayer(layout.name, 'model.layers.0.mlp.up_proj', r).map((t) => [
        t.name.replace('model.layers.0.mlp.up_proj.', ''),
        t.dtype,
      ]);
      const expected = layout.tensors
        .filter((t) => isWritten(t, doubleQuant))
        .map((t) => [t.suffix.replace('{quant_type}', quantType), t.dtype]);
      assert.deepEqual(packed, expected, `${layout.name} ${label}`);
    }
  }
});

test('the estimate sizes the tensors the packer writes, byte for byte', async () => {
  const settingsOf = {
    gptq: (bits: number) => ({ method: 'gptq' as const, bits: bits as 2 | 3 | 4 | 8, groupSize: 32, descAct: false, skip: [] }),
    'awq-gemm': () => ({ method: 'awq' as const, bits: 4 as const, groupSize: 32, version: 'gemm' as const, skip: [] }),
    'awq-gemv': () => ({ method: 'awq' as const, bits: 4 as const, groupSize: 32, version: 'gemv' as const, skip: [] }),
  };
  for (const name of ['gptq', 'awq-gemm', 'awq-gemv'] as const) {
    for (const { label, r } of await results(name)) {
      const bits = r.kind === 'group' ? r.bits : 0;
      const packed = packLayer(name, 'l', r).map((t) => [t.name.slice(2), t.data.byteLength]);
      const estimated = quantizedLinearLayout(settingsOf[name](bits), rows, cols, 'float16').map((t) => [t.suffix, t.bytes]);
      assert.deepEqual(estimated, packed, `${name} ${label}`);
    }
  }
  const int8 = packLayer('bnb8', 'l', await quantize('int8', w, rows, cols)).map((t) => [t.name.slice(2), t.data.byteLength]);
  assert.deepEqual(
    quantizedLinearLayout({ method: 'int8', skip: [] }, rows, cols, 'float16').map((t) => [t.suffix, t.bytes]),
    int8,
  );
  const nf4 = packLayer('bnb4', 'l', await quantize('nf4', w, rows, cols)).map((t) => [t.name.slice(2), t.data.byteLength]);
  assert.deepEqual(
    quantizedLinearLayout({ method: 'bnb4', quantType: 'nf4', doubleQuant: false, skip: [] }, rows, cols, 'float16').map((t) => [
      t.suffix,
      t.bytes,
    ]),
    nf4,
  );
});

test("each layout's quantization_config carries the table's method, version, checkpoint format and side file", () => {
  for (const layout of WRITTEN) {
    const { quantizationConfig: c, sideFile } = checkpointConfig(layout.name);
    assert.equal(c.quant_method, layout.quantMethod, layout.name);
    assert.equal(c.version, layout.version || undefined, layout.name);
    assert.equal(c.checkpoint_format, layout.checkpointFormat || undefined, layout.name);
    assert.equal(sideFile?.name, layout.sideFile || undefined, layout.name);
    if (layout.feed === 'bnb4' || layout.feed === 'int8') assert.equal(c.load_in_4bit, layout.feed === 'bnb4', layout.name);
  }
});

test('a layout the runtime only loads has no packer, unpacker or config writer, and says which layouts the engine writes', async () => {
  const written = 'gptq, awq-gemm, awq-gemv, bnb4 or bnb8';
  assert.deepEqual(
    CHECKPOINT_LAYOUTS.filter((l) => !l.engineWrites).map((l) => l.name),
    ['ct-pack-quantized'],
  );
  const r = await quantize('rtn', w, rows, cols, { bits: 4, groupSize: 32, sym: true });
  assert.throws(
    () => packLayer('ct-pack-quantized', 'model.layers.0.mlp.up_proj', r),
    new Error(`model.layers.0.mlp.up_proj: the ct-pack-quantized layout is loaded by the runtime only; the engine writes ${written}`),
  );
  const fixture = path.join(repoRoot, 'test', 'fixtures', 'upstream-written', 'llmcompressor-w4a16', 'model.safetensors');
  assert.throws(
    () => unpackLayer('ct-pack-quantized', fixture, 'model.layers.0.mlp.up_proj'),
    new Error(`model.layers.0.mlp.up_proj: the ct-pack-quantized layout is loaded by the runtime only; the engine writes ${written}`),
  );
  assert.throws(
    () => checkpointConfig('ct-pack-quantized'),
    new Error(`no quantization_config writer for the ct-pack-quantized layout: the runtime only loads it; the engine writes ${written}`),
  );
});
