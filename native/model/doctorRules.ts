// What the checkpoint doctor expects a config to say, given the tensors: one row of keys per layout, what
// a config may say instead without harm (which loaders take the folder: doctorTargets.ts).
import type { CheckpointInference, ModuleInference } from './checkpointInference';
import { groupSizeFits, groupSizeOf, gptqStoredMidpoint } from './checkpointInference';
import type { LayoutName } from './checkpointLayouts';
import { QUANT_DEFAULTS } from './quantConfig';
import type { JsonValue } from './types';

/** compressed-tensors keeps its scheme in each config group's `weights`: a key `config_groups.*.weights.<field>` reads
 *  the first group's field and a fix writes every group's (the reader refuses configs whose groups differ). */
export const CT_WEIGHTS = 'config_groups.*.weights.';

/** Canonical key → every spelling a config file may use for it (AutoAWQ's quant_config.json: w_bit, q_group_size). */
export const KEY_SPELLINGS: Readonly<Record<string, readonly string[]>> = {
  bits: ['bits', 'w_bit'],
  group_size: ['group_size', 'q_group_size'],
  checkpoint_format: ['checkpoint_format', 'format'],
};

export interface Expected {
  layout: LayoutName;
  /** Canonical key → the value the tensors imply. */
  values: Record<string, JsonValue>;
  /** Whether a configured value (undefined: absent) describes the tensors. */
  accepts(key: string, value: JsonValue | undefined): boolean;
  severity(key: string, value: JsonValue | undefined): 'error' | 'warning';
  /** The tensors that show it, for the message. */
  evidence(key: string): string;
}

const METHOD: Record<LayoutName, string> = {
  gptq: 'gptq',
  'awq-gemm': 'awq',
  'awq-gemv': 'awq',
  'ct-pack-quantized': 'compressed-tensors',
  bnb4: 'bitsandbytes',
  bnb8: 'bitsandbytes',
};
const DEFAULTS: Record<string, Record<string, JsonValue>> = {
  // compressed-tensors 0.19 QuantizationArgs: symmetric defaults to true.
  'compressed-tensors': { [`${CT_WEIGHTS}symmetric`]: true },
  gptq: QUANT_DEFAULTS.gptq,
  awq: QUANT_DEFAULTS.awq,
  bitsandbytes: QUANT_DEFAULTS.bitsandbytes,
};

function values(layout: LayoutName, mods: ModuleInference[]): Record<string, JsonValue> {
  const first = mods[0]!;
  const grouped = mods.find((m) => (m.groups ?? 1) > 1) ?? first;
  switch (layout) {
    case 'gptq': {
      // Zero points all at one convention's midpoint tell both sym and the convention; asymmetric ones tell neither.
      const mids = new Set(mods.map((m) => m.midZeros));
      const mid = mids.size === 1 ? first.midZeros : 'none';
      const sym = mid !== 'none' && mid !== undefined;
      const format: Record<string, JsonValue> = sym ? { checkpoint_format: mid } : {};
      return {
        quant_method: 'gptq',
        bits: first.bits,
        group_size: groupSizeOf(grouped.inFeatures, grouped.groups ?? 1),
        sym,
        desc_act: mods.some((m) => m.actOrder),
        ...format,
      };
    }
    case 'awq-gemm':
      return { quant_method: 'awq', bits: 4, group_size: groupSizeOf(grouped.inFeatures, grouped.groups ?? 1), version: 'gemm' };
    case 'awq-gemv':
      return { quant_method: 'awq', bits: 4, version: 'gemv' };
    case 'bnb4':
      return {
        quant_method: 'bitsandbytes',
        load_in_4bit: true,
        load_in_8bit: false,
        bnb_4bit_quant_type: first.quantType ?? 'fp4',
        bnb_4bit_use_double_quant: first.doubleQuant ?? false,
      };
    case 'bnb8':
      return { quant_method: 'bitsandbytes', load_in_8bit: true, load_in_4bit: false };
    case 'ct-pack-quantized': {
      const isGrouped = (grouped.groups ?? 1) > 1;
      return {
        quant_method: 'compressed-tensors',
        [`${CT_WEIGHTS}num_bits`]: first.bits,
        [`${CT_WEIGHTS}strategy`]: isGrouped ? 'group' : 'channel',
        ...(isGrouped ? { [`${CT_WEIGHTS}group_size`]: groupSizeOf(grouped.inFeatures, grouped.groups ?? 1) } : {}),
        [`${CT_WEIGHTS}symmetric`]: !mods.some((m) => m.packedZeros),
      };
    }
  }
}

/** compressed-tensors' scheme fields, shown by weight_packed, weight_scale and weight_zero_point. */
function ctEvidence(mods: ModuleInference[], field: string): string {
  const m = mods.find((x) => (field === 'symmetric' ? x.packedZeros : (x.groups ?? 1) > 1)) ?? mods[0]!;
  switch (field) {
    case 'num_bits':
      return `${m.module}.weight_packed packs in_features ${m.inFeatures} into ${(m.inFeatures * m.bits) / 32} int32 columns, ${m.bits} bits each`;
    case 'symmetric':
      return m.packedZeros ? `${m.module}.weight_zero_point holds packed zero points` : 'no module stores weight_zero_point';
    default:
      return `${m.module}.weight_scale holds ${m.groups} group${m.groups === 1 ? '' : 's'} over in_features ${m.inFeatures}`;
  }
}

function evidenceOf(layout: LayoutName, mods: ModuleInference[], key: string): string {
  if (key.startsWith(CT_WEIGHTS)) return ctEvidence(mods, key.slice(CT_WEIGHTS.length));
  const m = mods.find((x) => (key === 'desc_act' ? x.actOrder : key === 'sym' ? x.midZeros === 'none' : (x.groups ?? 1) > 1)) ?? mods[0]!;
  switch (key) {
    case 'bits':
      return `${m.module}.qweight packs in_features ${m.inFeatures} into ${(m.inFeatures * m.bits) / 32} int32 rows, ${m.bits} bits each`;
    case 'group_size':
      return `${m.module}.scales holds ${m.groups} group${m.groups === 1 ? '' : 's'} over in_features ${m.inFeatures}`;
    case 'desc_act':
      return `${m.module}.g_idx is ${m.actOrder ? 'permuted (not i // group_size)' : 'the trivial i // group_size in every module'}`;
    case 'sym':
    case 'checkpoint_format':
      if (m.midZeros === 'gptq')
        return `every zero point in qzeros is ${gptqStoredMidpoint(m.bits, 'gptq')}, the symmetric midpoint as GPTQ v1 ('gptq') stores it (zero − 1)`;
      if (m.midZeros === 'gptq_v2')
        return `every zero point in qzeros is ${gptqStoredMidpoint(m.bits, 'gptq_v2')}, the symmetric midpoint as 'gptq_v2' stores it`;
      return `${m.module}.qzeros holds zero points other than the symmetric ${gptqStoredMidpoint(m.bits, 'gptq')} (v1) or ${gptqStoredMidpoint(m.bits, 'gptq_v2')} (v2)`;
    default:
      return `${mods.length} modules are stored in the ${layout} layout (${m.module})`;
  }
}

export function expectedSettings(inference: CheckpointInference): Expected {
  const layout = inference.layout!;
  const mods = inference.modules.filter((m) => m.layout === layout);
  const want = values(layout, mods);
  const defaults = DEFAULTS[METHOD[layout]] ?? {};
  const effective = (key: string, value: JsonValue | undefined): JsonValue | undefined => value ?? defaults[key];
  return {
    layout,
    values: want,
    accepts(key, raw) {
      const value = effective(key, raw);
      if (key === 'group_size')
        return typeof value === 'number' && mods.every((m) => m.groups === undefined || groupSizeFits(value, m.inFeatures, m.groups));
      if (key === `${CT_WEIGHTS}group_size`)
        return typeof value === 'number' && mods.every((m) => groupSizeFits(value, m.inFeatures, m.groups ?? 1));
      // Act-order declared over a trivial g_idx loads and computes the same; only the reverse is wrong.
      if (key === 'desc_act') return value === want.desc_act || value === true;
      if (key === 'load_in_8bit' || key === 'load_in_4bit' || key === 'bnb_4bit_use_double_quant') return (value ?? false) === want[key];
      return value === want[key];
    },
    severity: (key, raw) => (key === 'sym' && effective(key, raw) === false ? 'warning' : 'error'),
    evidence: (key) => evidenceOf(layout, mods, key),
  };
}
