// A quantization config in any of the shapes users write it → the few settings that decide memory.
// Accepted: a quantization_config object (as inside config.json), a whole config.json, an AutoGPTQ
// quantize_config.json, an AutoAWQ quant_config.json, or a *.quant.json job file.
import type { Result } from './errors';
import { fail, ok } from './errors';
import { compressedTensorsScheme } from './compressedTensorsConfig';
import { dynamicRules } from './gptqDynamic';
import type { DynamicRule } from './gptqDynamic';
import { QUANT_DEFAULTS, quantizationConfigOf } from './quantConfig';
import type { JsonObject, JsonValue } from './types';

/** Modules transformers never quantizes, whatever the config says. */
const ALWAYS_SKIPPED = ['lm_head'];

export type QuantSettings =
  | { method: 'none' }
  | { method: 'gptq'; bits: GptqBits; groupSize: number; descAct: boolean; skip: string[]; dynamic?: DynamicRule[] }
  | { method: 'awq'; bits: 4; groupSize: number; version: 'gemm' | 'gemv'; skip: string[] }
  | { method: 'bnb4'; quantType: 'nf4' | 'fp4'; doubleQuant: boolean; skip: string[] }
  | { method: 'int8'; skip: string[] }
  | { method: 'compressed-tensors'; bits: 4 | 8; groupSize: number; symmetric: boolean; skip: string[] };

export type GptqBits = 2 | 3 | 4 | 8;

const isGptqBits = (bits: unknown): bits is GptqBits => bits === 2 || bits === 3 || bits === 4 || bits === 8;

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(v: JsonValue | undefined): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/**
 * The first of keys that holds a number, else the fallback. A key written with another type (bits: "4"),
 * given as something other than a literal, or missing where the library has no default of its own (GPTQConfig
 * requires bits), is noted in notes.assumed.
 */
function num(c: JsonObject, keys: readonly string[], fallback: number, notes: Notes, required = false): number {
  for (const k of keys) if (typeof c[k] === 'number') return c[k] as number;
  const written = keys.find((k) => k in c);
  const unread = keys.find((k) => notes.unread?.has(k));
  if (written !== undefined) notes.assumed.push(`${keys[0]} ${fallback} (${written} ${JSON.stringify(c[written])} is not a number)`);
  else if (unread !== undefined) notes.assumed.push(`${keys[0]} ${fallback} (${unread}=${notes.unread?.get(unread)} is not a literal)`);
  else if (required) notes.assumed.push(`${keys[0]} ${fallback} (not given)`);
  return fallback;
}

/** What a read assumed; `unread`: keys written with a value that is not a literal (a Python variable), by their source text. */
interface Notes {
  assumed: string[];
  unread?: ReadonlyMap<string, string>;
}

export function quantSettingsOf(json: JsonObject, where: string): Result<QuantSettings> {
  const read = quantSettingsRead(json, where);
  return read.ok ? ok(read.value.settings) : read;
}

/** The settings and what they assumed for values the config leaves out or writes with the wrong type. */
export function quantSettingsRead(
  json: JsonObject,
  where: string,
  unread?: ReadonlyMap<string, string>,
): Result<{ settings: QuantSettings; assumed: string[] }> {
  const notes: Notes = { assumed: [], unread };
  const settings = settingsOf(json, where, notes);
  return settings.ok ? ok({ settings: settings.value, assumed: notes.assumed }) : settings;
}

function settingsOf(json: JsonObject, where: string, notes: Notes): Result<QuantSettings> {
  if (isObject(json['quantization_config'])) return settingsOf(json['quantization_config'], `${where} → quantization_config`, notes);
  const config = quantizationConfigOf(json);
  const method = typeof config?.['quant_method'] === 'string' ? config['quant_method'].toLowerCase() : undefined;
  json = config ?? json;
  const skip = [...ALWAYS_SKIPPED, ...strings(json['modules_to_not_convert']), ...strings(json['llm_int8_skip_modules'])];
  if (method === 'awq') {
    const bits = num(json, ['bits', 'w_bit'], QUANT_DEFAULTS.awq.bits, notes);
    if (bits !== 4) return fail('unsupported', `AWQ with ${bits} bits`, where, 'AWQ checkpoints are 4-bit; set bits (w_bit) to 4');
    // GEMV has its own tensor layout; every other kernel choice (gemm, exllama, marlin, ipex) loads GEMM tensors.
    const version =
      (typeof json['version'] === 'string' ? json['version'] : QUANT_DEFAULTS.awq.version).toLowerCase() === 'gemv' ? 'gemv' : 'gemm';
    return ok({
      method: 'awq',
      bits: 4,
      groupSize: num(json, ['group_size', 'q_group_size'], QUANT_DEFAULTS.awq.group_size, notes),
      version,
      skip,
    });
  }
  if (method === 'gptq') {
    const bits = num(json, ['bits'], QUANT_DEFAULTS.gptq.bits, notes, true);
    if (!isGptqBits(bits)) return fail('unsupported', `GPTQ with ${bits} bits`, where, 'use bits 2, 3, 4 or 8');
    const groupSize = num(json, ['group_size'], QUANT_DEFAULTS.gptq.group_size, notes);
    if (!isGroupSize(groupSize))
      return fail('invalid', `group_size ${groupSize}`, where, 'use -1 (per column) or a positive integer such as 128');
    const descAct = (json['desc_act'] ?? QUANT_DEFAULTS.gptq.desc_act) === true;
    const dynamic = dynamicRules(json['dynamic']);
    for (const rule of dynamic.filter((r) => !r.skip)) {
      const at = `${where} → dynamic → ${JSON.stringify(rule.key)}`;
      const o = rule.overrides;
      if (o['bits'] !== undefined && !isGptqBits(o['bits']))
        return fail('unsupported', `GPTQ with ${JSON.stringify(o['bits'])} bits`, at, 'use bits 2, 3, 4 or 8');
      if (o['group_size'] !== undefined && !isGroupSize(o['group_size']))
        return fail(
          'invalid',
          `group_size ${JSON.stringify(o['group_size'])}`,
          at,
          'use -1 (per column) or a positive integer such as 128',
        );
    }
    return ok({ method: 'gptq', bits, groupSize, descAct, skip, ...(dynamic.length > 0 ? { dynamic } : {}) });
  }
  if (method === 'bitsandbytes') {
    if (json['load_in_8bit'] === true) return ok({ method: 'int8', skip });
    if (json['load_in_4bit'] === true) {
      const type = json['bnb_4bit_quant_type'] ?? QUANT_DEFAULTS.bitsandbytes.bnb_4bit_quant_type;
      if (type !== 'nf4' && type !== 'fp4')
        return fail('invalid', `bnb_4bit_quant_type ${JSON.stringify(type)}`, where, 'use "nf4" or "fp4"');
      return ok({
        method: 'bnb4',
        quantType: type,
        doubleQuant: (json['bnb_4bit_use_double_quant'] ?? QUANT_DEFAULTS.bitsandbytes.bnb_4bit_use_double_quant) === true,
        skip,
      });
    }
    return fail(
      'invalid',
      'bitsandbytes config with neither load_in_4bit nor load_in_8bit true',
      where,
      'set load_in_4bit or load_in_8bit to true',
    );
  }
  if (method === 'compressed-tensors') {
    const scheme = compressedTensorsScheme(json);
    if (!scheme.ok)
      return fail('unsupported', `${scheme.refusal.field} ${scheme.refusal.message}`, where, 'give a pack-quantized W4A16 / W8A16 config');
    const { ignore, ...weights } = scheme.value;
    return ok({ method: 'compressed-tensors', ...weights, skip: [...ALWAYS_SKIPPED, ...ignore] });
  }
  return fail(
    'unsupported',
    method ? `quant_method ${JSON.stringify(method)} is not estimated` : 'no quantization config found',
    where,
    'give a GPTQ, AWQ, bitsandbytes or compressed-tensors config',
  );
}

const isGroupSize = (g: unknown): g is number => g === -1 || (typeof g === 'number' && Number.isInteger(g) && g > 0);

/** A module's GPTQ settings under the config's `dynamic` (GPTQModel 7.7: the first matching rule's overrides); undefined: skipped. */
export function gptqModuleSettings(s: Extract<QuantSettings, { method: 'gptq' }>, rule: DynamicRule | undefined): typeof s | undefined {
  if (!rule) return s;
  if (rule.skip) return undefined;
  const o = rule.overrides;
  return {
    ...s,
    bits: isGptqBits(o['bits']) ? o['bits'] : s.bits,
    groupSize: isGroupSize(o['group_size']) ? o['group_size'] : s.groupSize,
    descAct: typeof o['desc_act'] === 'boolean' ? o['desc_act'] : s.descAct,
  };
}

/** Short name for tables: "GPTQ 4-bit g128", "NF4 + double quant", … */
export function describeSettings(s: QuantSettings): string {
  switch (s.method) {
    case 'none':
      return 'as stored';
    case 'gptq':
      return `GPTQ ${s.bits}-bit ${s.groupSize === -1 ? 'per-column' : `g${s.groupSize}`}${s.descAct ? ' act-order' : ''}${dynamicNote(s.dynamic)}`;
    case 'awq':
      return `AWQ ${s.bits}-bit g${s.groupSize}${s.version === 'gemv' ? ' GEMV' : ''}`;
    case 'bnb4':
      return `${s.quantType.toUpperCase()}${s.doubleQuant ? ' + double quant' : ''}`;
    case 'int8':
      return 'LLM.int8';
    case 'compressed-tensors':
      return `compressed-tensors W${s.bits}A16 ${s.groupSize === -1 ? 'per-channel' : `g${s.groupSize}`}${s.symmetric ? '' : ' asym'}`;
  }
}

function dynamicNote(rules: readonly DynamicRule[] | undefined): string {
  return rules ? ` + dynamic (${rules.length} rule${rules.length === 1 ? '' : 's'})` : '';
}
