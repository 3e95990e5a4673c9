// What the checkpoint doctor expects a config to say, given the tensors: one row of keys per layout, what
// a config may say instead without harm, and which loaders take the folder. Loader rules are only those the
// repository already states elsewhere (the layouts table, GPTQModel's kernel shapes, the gptq rules).
import type { CheckpointInference, ModuleInference } from './checkpointInference';
import { groupSizeFits, groupSizeOf, gptqStoredMidpoint } from './checkpointInference';
import { checkpointLayout } from './checkpointLayouts';
import type { LayoutName } from './checkpointLayouts';
import { GPTQ_KERNEL_SHAPES, kernelTakes } from './gptqKernels';
import { QUANT_DEFAULTS } from './quantConfig';
import type { JsonValue } from './types';

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
    case 'ct-pack-quantized':
      // Its scheme sits in config_groups, which the doctor's flat keys do not reach: only the method is checked.
      return { quant_method: 'compressed-tensors' };
  }
}

function evidenceOf(layout: LayoutName, mods: ModuleInference[], key: string): string {
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
      // Act-order declared over a trivial g_idx loads and computes the same; only the reverse is wrong.
      if (key === 'desc_act') return value === want.desc_act || value === true;
      if (key === 'load_in_8bit' || key === 'load_in_4bit' || key === 'bnb_4bit_use_double_quant') return (value ?? false) === want[key];
      return value === want[key];
    },
    severity: (key, raw) => (key === 'sym' && effective(key, raw) === false ? 'warning' : 'error'),
    evidence: (key) => evidenceOf(layout, mods, key),
  };
}

export interface TargetVerdict {
  /** The loader, with the release its rule follows. */
  target: string;
  /** undefined: QuantStudio has no rule for this loader and this layout. */
  loads: boolean | undefined;
  detail: string;
}

interface Finding {
  code: string;
  severity: string;
  message: string;
}

export function verdictsOf(
  inference: CheckpointInference,
  expected: Expected | undefined,
  findings: readonly Finding[],
  checkpointFormat: string | undefined,
): TargetVerdict[] {
  if (!expected) return [];
  const configErrors = findings.filter((f) => f.severity === 'error' && !f.code.startsWith('data/'));
  const dataErrors = findings.filter((f) => f.severity === 'error' && f.code.startsWith('data/'));
  const badData = dataErrors.length > 0 ? '; the stored NaN/Inf values still reach the outputs' : '';
  const verdicts: TargetVerdict[] = [
    {
      target: 'transformers 5.23',
      loads: configErrors.length === 0,
      detail:
        configErrors.length === 0
          ? `loads as quant_method ${expected.values.quant_method}${badData}`
          : `fails: ${configErrors.length} config mismatch${configErrors.length === 1 ? '' : 'es'} (${configErrors[0]!.code})`,
    },
  ];
  const mods = inference.modules.filter((m) => m.layout === expected.layout);
  const packedZeros = mods.find((m) => m.packedZeros);
  if (packedZeros) {
    // Measured with test/fixtures/upstream-written/llmcompressor-w4a16-asym: transformers 5.23 with compressed-tensors
    // 0.19 builds weight_zero_point as [out, groups] and refuses the packed one as a size mismatch.
    verdicts[0] = {
      target: 'transformers 5.23',
      loads: false,
      detail: `fails: ${packedZeros.module}.weight_zero_point is packed (asymmetric pack-quantized); with compressed-tensors 0.19 it expects [out, groups] unpacked`,
    };
  }
  if (expected.layout === 'gptq') {
    const kernels = Object.values(GPTQ_KERNEL_SHAPES).map((k) => {
      const misfit = mods.find((m) => !kernelTakes(k, m.inFeatures, m.outFeatures));
      // gptq/marlin-settings: Marlin needs sym and 4 or 8 bits (GPTQModel 7.7).
      const marlinBlock =
        k.kernel.startsWith('Marlin') && (expected.values.sym !== true || ![4, 8].includes(expected.values.bits as number));
      const shapeWhy =
        misfit && `${misfit.module} is in ${misfit.inFeatures}, out ${misfit.outFeatures}; needs in % ${k.inBy}, out % ${k.outBy}`;
      const why = shapeWhy || (marlinBlock ? 'needs sym and 4 or 8 bits' : '');
      return `${k.kernel} ${why ? `no (${why})` : 'yes'}`;
    });
    const prefix = configErrors.length === 0 ? '' : 'not with these configs; ';
    verdicts.push({ target: 'GPTQModel 7.7', loads: configErrors.length === 0, detail: `${prefix}kernels: ${kernels.join('; ')}` });
    const v2 = (expected.values.checkpoint_format ?? checkpointFormat) === 'gptq_v2';
    verdicts.push({
      target: 'vLLM',
      loads: v2 ? false : undefined,
      detail: v2 ? "reads only checkpoint_format 'gptq' (v1), not gptq_v2" : 'no rule in QuantStudio for its loader',
    });
  }
  const row = checkpointLayout(expected.layout);
  const bits = mods[0]?.bits ?? 0;
  const takes = row.bits.includes(bits);
  verdicts.push({
    target: 'QuantStudio engine',
    loads: takes,
    detail: `layout ${row.name} (${row.packing}), ${bits}-bit${takes ? '' : ` not among its ${row.bits.join('/')}`}`,
  });
  return verdicts;
}
