// One source for quantization config defaults: QUANT_DEFAULTS against the schemas, every shape → one
// quantization_config, and the engine's plan and the estimate taking their defaults from it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AUTOGPTQ_DEFAULTS, QUANT_DEFAULTS, quantSettingsOf, quantizationConfigOf } from '../../../native/model';
import type { JsonObject } from '../../../native/model';
import { planFromConfig } from '../../../native/lib/quantize';

const schemasDir = path.join(__dirname, '..', '..', '..', '..', 'schemas');
type SchemaProperty = { default?: unknown; properties?: Record<string, SchemaProperty> };
/** Each property's default, and an object property's own properties' as parent_child (gptaq.alpha → gptaq_alpha). */
function schemaDefaults(name: string): Record<string, unknown> {
  const schema = JSON.parse(fs.readFileSync(path.join(schemasDir, `${name}.schema.json`), 'utf8')) as {
    properties: Record<string, SchemaProperty>;
  };
  return Object.fromEntries(
    Object.entries(schema.properties).flatMap(([k, p]) => [
      ...('default' in p ? [[k, p.default]] : []),
      ...Object.entries(p.properties ?? {})
        .filter(([, c]) => 'default' in c)
        .map(([c, child]) => [`${k}_${c}`, child.default]),
    ]),
  );
}

test('QUANT_DEFAULTS are the schemas’ defaults (GPTQConfig has none for bits; the AutoGPTQ file’s is used)', () => {
  const gptq = schemaDefaults('gptq');
  const autogptq = schemaDefaults('autogptq-quantize-config');
  for (const [key, value] of Object.entries(QUANT_DEFAULTS.gptq)) assert.equal(value, gptq[key] ?? autogptq[key], `gptq ${key}`);
  assert.equal(gptq.bits, undefined);
  const awq = schemaDefaults('awq');
  for (const [key, value] of Object.entries(QUANT_DEFAULTS.awq)) assert.equal(value, awq[key], `awq ${key}`);
  const bnb = schemaDefaults('bitsandbytes');
  for (const [key, value] of Object.entries(QUANT_DEFAULTS.bitsandbytes)) assert.equal(value, bnb[key], `bitsandbytes ${key}`);
});

test('where an AutoGPTQ / AutoAWQ file’s library defaults a key differently, the difference is written down', () => {
  const autogptq = schemaDefaults('autogptq-quantize-config');
  const differing = Object.keys(QUANT_DEFAULTS.gptq).filter(
    (k) => k in autogptq && autogptq[k] !== QUANT_DEFAULTS.gptq[k as keyof typeof QUANT_DEFAULTS.gptq],
  );
  assert.deepEqual(differing, Object.keys(AUTOGPTQ_DEFAULTS));
  for (const [key, value] of Object.entries(AUTOGPTQ_DEFAULTS)) assert.equal(value, autogptq[key], key);
  const autoawq = schemaDefaults('autoawq-quant-config');
  assert.deepEqual(
    { bits: autoawq.w_bit, group_size: autoawq.q_group_size, zero_point: autoawq.zero_point, version: autoawq.version },
    QUANT_DEFAULTS.awq,
  );
});

test('any shape becomes one quantization_config with quant_method', () => {
  const qc = { quant_method: 'gptq', bits: 4 };
  assert.equal(quantizationConfigOf({ architectures: ['LlamaForCausalLM'], quantization_config: qc }), qc);
  assert.equal(quantizationConfigOf(qc), qc);
  assert.deepEqual(quantizationConfigOf({ bits: 3, group_size: 64 }), {
    quant_method: 'gptq',
    damp_percent: 0.05,
    bits: 3,
    group_size: 64,
  });
  assert.deepEqual(quantizationConfigOf({ quant_method: 'gptq', bits: 4 }, '/m/quantize_config.json'), {
    quant_method: 'gptq',
    damp_percent: 0.05,
    bits: 4,
  });
  assert.deepEqual(quantizationConfigOf({ bits: 4, damp_percent: 0.2 }, 'quantize_config.json'), {
    quant_method: 'gptq',
    damp_percent: 0.2,
    bits: 4,
  });
  assert.deepEqual(quantizationConfigOf({ quant_method: 'awq', bits: 4 }, 'quantize_config.json'), { quant_method: 'awq', bits: 4 });
  assert.deepEqual(quantizationConfigOf({ w_bit: 4, q_group_size: 128, zero_point: true }), {
    quant_method: 'awq',
    w_bit: 4,
    q_group_size: 128,
    zero_point: true,
  });
  assert.deepEqual(quantizationConfigOf({ load_in_4bit: true }), { quant_method: 'bitsandbytes', load_in_4bit: true });
  assert.equal(quantizationConfigOf({ model_type: 'llama' }), undefined);
});

test('the engine’s plan takes every missing key from QUANT_DEFAULTS', () => {
  const { bits, groupSize, dampPercent, dampAutoIncrement, sym, descAct, staticGroups, actGroupAware, mse, trueSequential } =
    planFromConfig({ quant_method: 'gptq' });
  assert.deepEqual(
    { bits, groupSize, dampPercent, dampAutoIncrement, sym, descAct, staticGroups, actGroupAware, mse, trueSequential },
    {
      bits: 4,
      groupSize: 128,
      dampPercent: 0.1,
      dampAutoIncrement: 0.0025,
      sym: true,
      descAct: false,
      staticGroups: false,
      actGroupAware: true,
      mse: 0,
      trueSequential: true,
    },
  );
  const searched = planFromConfig({ quant_method: 'gptq', act_group_aware: false, mse: 2.4 });
  assert.deepEqual([searched.actGroupAware, searched.mse], [false, 2.4]);
  assert.throws(() => planFromConfig({ quant_method: 'gptq', mse: 'yes' }), /quantization_config\.mse.*a number/);
  // The gptq layout in v1 unless the config asks for GPTQModel's v2 (transformers 5.23: checkpoint_format overrides format).
  assert.equal(planFromConfig({ quant_method: 'gptq' }).checkpointFormat, 'gptq');
  assert.equal(planFromConfig({ quant_method: 'gptq', format: 'GPTQ_V2' }).checkpointFormat, 'gptq_v2');
  assert.equal(planFromConfig({ quant_method: 'gptq', format: 'gptq_v2', checkpoint_format: 'gptq' }).checkpointFormat, 'gptq');
  assert.throws(
    () => planFromConfig({ quant_method: 'gptq', checkpoint_format: 'marlin' }),
    /quantization_config\.checkpoint_format: "marlin" is not written; the pipeline writes "gptq" or "gptq_v2"/,
  );
  // GPTQModel 7.7's gptaq: null or absent is plain GPTQ; an object's alpha defaults to GPTAQConfig's 0.25.
  assert.equal(planFromConfig({ quant_method: 'gptq' }).gptaqAlpha, 0);
  assert.equal(planFromConfig({ quant_method: 'gptq', gptaq: null }).gptaqAlpha, 0);
  assert.equal(planFromConfig({ quant_method: 'gptq', gptaq: {} }).gptaqAlpha, 0.25);
  assert.equal(planFromConfig({ quant_method: 'gptq', gptaq: { alpha: 0.5, device: 'cpu' } }).gptaqAlpha, 0.5);
  assert.throws(
    () => planFromConfig({ quant_method: 'gptq', gptaq: true }),
    /quantization_config\.gptaq: must be an object such as \{"alpha": 0\.25\} or null \(got true\)/,
  );
  assert.throws(
    () => planFromConfig({ quant_method: 'gptq', gptaq: { alpha: -1 } }),
    /quantization_config\.gptaq\.alpha: must be a number >= 0 \(got -1\)/,
  );
  assert.equal(planFromConfig(quantizationConfigOf({ bits: 4 }, 'quantize_config.json')!).dampPercent, 0.05);
  const awq = planFromConfig({ quant_method: 'awq' });
  assert.deepEqual(
    { bits: awq.bits, groupSize: awq.groupSize, zeroPoint: awq.zeroPoint, layout: awq.layout },
    { bits: 4, groupSize: 128, zeroPoint: true, layout: 'awq-gemm' },
  );
  const bnb4 = planFromConfig({ quant_method: 'bitsandbytes', load_in_4bit: true });
  assert.deepEqual(
    { method: bnb4.method, computeDtype: bnb4.computeDtype, doubleQuant: bnb4.doubleQuant },
    { method: 'fp4', computeDtype: 'float32', doubleQuant: false },
  );
  assert.equal(planFromConfig({ quant_method: 'bitsandbytes', load_in_8bit: true }).threshold, 6);
});

test('the memory estimate reads the same defaults and the same shapes', () => {
  assert.deepEqual(quantSettingsOf({ quant_method: 'bitsandbytes', load_in_4bit: true }, 'x'), {
    ok: true,
    value: { method: 'bnb4', quantType: 'fp4', doubleQuant: false, skip: ['lm_head'] },
  });
  assert.deepEqual(quantSettingsOf({ w_bit: 4 }, 'x'), {
    ok: true,
    value: { method: 'awq', bits: 4, groupSize: 128, version: 'gemm', skip: ['lm_head'] },
  });
  assert.deepEqual(quantSettingsOf({ bits: 3 }, 'x'), {
    ok: true,
    value: { method: 'gptq', bits: 3, groupSize: 128, descAct: false, skip: ['lm_head'] },
  });
});

test("compressed-tensors: the estimate reads llm-compressor's written schemes and names what it does not size", () => {
  const written = (folder: string): JsonObject =>
    (
      JSON.parse(
        fs.readFileSync(
          path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'upstream-written', folder, 'config.json'),
          'utf8',
        ),
      ) as {
        quantization_config: JsonObject;
      }
    ).quantization_config;
  const settings = (folder: string) => quantSettingsOf(written(folder), folder);
  const scheme = (bits: number, groupSize: number, symmetric: boolean) => ({
    ok: true,
    value: { method: 'compressed-tensors', bits, groupSize, symmetric, skip: ['lm_head', 'lm_head'] },
  });
  assert.deepEqual(settings('llmcompressor-w4a16'), scheme(4, 128, true));
  assert.deepEqual(settings('llmcompressor-w4a16-asym'), scheme(4, 128, false));
  assert.deepEqual(settings('llmcompressor-w4a16-channel'), scheme(4, -1, true));
  assert.deepEqual(settings('llmcompressor-w8a16'), scheme(8, 128, true));
  const w8a8 = written('llmcompressor-w8a16');
  ((w8a8.config_groups as JsonObject).group_0 as JsonObject).input_activations = {
    num_bits: 8,
    type: 'int',
    strategy: 'token',
    dynamic: true,
  };
  assert.deepEqual(quantSettingsOf(w8a8, 'w8a8'), {
    ok: false,
    error: {
      code: 'unsupported',
      message: 'config_groups.group_0.input_activations is set (activation quantization, e.g. W8A8); the runtime loads weight-only schemes',
      where: 'w8a8',
      hint: 'give a pack-quantized W4A16 / W8A16 config',
    },
  });
});
