// GPTQModel 7.7's per-module overrides (`dynamic`) in the quantize pipeline, on tiny-llama: each module takes the
// first matching key's bits, group_size, desc_act and sym ("-:" keys first, matched from the start of its written
// name), "-:" modules stay dense, the object is written back into both configs, and the runtime loads the result.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { unpackLayer } from '../../native/lib/formats';
import { f16ToF32, f32ToF16, readTensorFloat32 } from '../../native/lib/io';
import { GroupResult, quantize } from '../../native/lib/quant';
import { quantizeModel } from '../../native/lib/quantize';
import { RuntimeModel } from '../../native/lib/runtime';
import { doctorFolder } from '../../native/model';
import { removeTempDirs, tempDir, tensorTable } from './pipeline-fixtures';
import { tinyLlamaDir } from './runtime-fixtures';

after(removeTempDirs);

const DYNAMIC = {
  '+:.*mlp\\.down_proj': { bits: 8, group_size: 64 },
  'model\\.layers\\.[23]\\.self_attn\\.(q|k)_proj': { bits: 3, group_size: 32, sym: false },
  // written after the positive keys, applied first (GPTQModel moves "-:" keys to the front)
  '-:model\\.layers\\.0\\.self_attn\\.o_proj': {},
};
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

test('dynamic: each module is quantized with its own key, "-:" modules stay dense, both configs carry the object', async () => {
  const out = path.join(tempDir('dynamic-rtn'), 'out');
  await quantizeModel({
    model: tinyLlamaDir,
    config: { quant_method: 'gptq', bits: 4, group_size: 128, dynamic: DYNAMIC },
    algorithm: 'rtn',
    out,
  });
  const table = tensorTable(out);
  assert.equal(table.get('model.layers.0.self_attn.o_proj.weight')?.dtype, 'F16');
  assert.equal(table.has('model.layers.0.self_attn.o_proj.qweight'), false);
  assert.deepEqual(table.get('model.layers.1.self_attn.o_proj.qweight')?.shape, [32, 256], '4-bit: 256 inputs in 32 words');
  const expected: Array<[string, { bits: number; groupSize: number; sym: boolean }]> = [
    ['model.layers.1.mlp.down_proj', { bits: 8, groupSize: 64, sym: true }],
    ['model.layers.3.self_attn.k_proj', { bits: 3, groupSize: 32, sym: false }],
    ['model.layers.1.self_attn.k_proj', { bits: 4, groupSize: 128, sym: true }],
  ];
  for (const [prefix, s] of expected) {
    const w = readTensorFloat32(tinyLlamaDir, `${prefix}.weight`);
    const [rows, cols] = w.shape;
    assert.deepEqual(table.get(`${prefix}.scales`)?.shape, [cols / s.groupSize, rows], `${prefix} groups`);
    const rtn = (await quantize('rtn', w.data, rows, cols, s)) as GroupResult;
    const unpacked = unpackLayer('gptq', out, prefix, { bits: s.bits, groupSize: s.groupSize }) as GroupResult;
    assert.deepEqual(unpacked.q, rtn.q, `${prefix} codes`);
    assert.deepEqual(unpacked.zeros, rtn.zeros, `${prefix} zeros`);
    assert.deepEqual(unpacked.scales, f16ToF32(f32ToF16(rtn.scales)), `${prefix} scales`);
  }
  for (const file of ['config.json', 'quantize_config.json']) {
    const json = readJson(path.join(out, file));
    const q = (file === 'config.json' ? json.quantization_config : json) as Record<string, unknown>;
    assert.deepEqual(q.dynamic, DYNAMIC, file);
    assert.equal(q.bits, 4, file);
  }
  const report = await doctorFolder(out);
  assert.deepEqual(
    report.findings.map((f) => `${f.file} ${f.code}`),
    ['config.json config/dynamic', 'quantize_config.json config/dynamic'],
  );
  const logits = await RuntimeModel.open(out).logits([1, 450, 496, 1735]);
  assert.ok(logits.length > 0 && logits.every(Number.isFinite));
});

test('dynamic under GPTQ: act-order and 3-bit per module through the calibrated pipeline', async () => {
  const out = path.join(tempDir('dynamic-gptq'), 'out');
  const dynamic = { '.*mlp\\.down_proj': { bits: 3, desc_act: true } };
  const r = await quantizeModel({
    model: tinyLlamaDir,
    config: { quant_method: 'gptq', bits: 4, group_size: 128, dynamic },
    out,
    calibration: { nsamples: 4, seqlen: 64 },
  });
  assert.equal(r.layers.length, 4);
  const table = tensorTable(out);
  assert.deepEqual(table.get('model.layers.0.mlp.down_proj.qweight')?.shape, [(768 * 3) / 32, 256]);
  assert.deepEqual(table.get('model.layers.0.mlp.up_proj.qweight')?.shape, [256 / 8, 768]);
  const gIdx = unpackLayer('gptq', out, 'model.layers.0.mlp.down_proj', { bits: 3, groupSize: 128 }) as GroupResult;
  assert.ok(
    gIdx.gIdx.some((g, c) => g !== Math.floor(c / 128)),
    'act-order writes a permuted g_idx',
  );
});

test('dynamic that the engine cannot honour is refused before any work, naming the key', async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      { quant_method: 'gptq', bits: 4, dynamic: { '.*down_proj': { bits: 8, damp_percent: 0.05 } } },
      /quantization_config\.dynamic\[".\*down_proj"\]\.damp_percent: the engine honours bits, group_size, desc_act, sym per module/,
    ],
    [{ quant_method: 'gptq', bits: 4, dynamic: { '.*down_proj': { bits: 5 } } }, /\.bits: must be 2, 3, 4 or 8 \(got 5\)/],
    [
      { quant_method: 'gptq', bits: 4, dynamic: { '.*(down_proj': { bits: 8 } } },
      /dynamic\["\.\*\(down_proj"\]: the regex does not compile/,
    ],
    [{ quant_method: 'awq', bits: 4, dynamic: { '.*down_proj': { bits: 8 } } }, /the engine honours them for GPTQ/],
    [
      { quant_method: 'gptq', bits: 4, dynamic: { '(?P<m>model)\\.layers\\.0\\.mlp\\.down_proj': { bits: 8 } } },
      /dynamic key \(\?P<m>model\)\\\.layers.*: the engine's regex does not compile it/,
    ],
    [
      { quant_method: 'gptq', bits: 4, group_size: 128, dynamic: { '.*mlp\\.down_proj': { group_size: 100 } } },
      /model\.layers\.0\.mlp\.down_proj.*in_features 768 is not divisible by group_size 100/,
    ],
  ];
  for (const [config, message] of cases) {
    const parent = tempDir('dynamic-refused');
    await assert.rejects(quantizeModel({ model: tinyLlamaDir, config, algorithm: 'rtn', out: path.join(parent, 'out') }), message);
    assert.deepEqual(fs.readdirSync(parent), [], JSON.stringify(config.dynamic));
  }
});
