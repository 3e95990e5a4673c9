// bitsandbytes rules: transformers 5.23 BitsAndBytesConfig (__init__, post_init, to_dict) and what
// bitsandbytes 0.50 accepts when the layers are built (quant types, compute dtypes).
import type { ConfigEntry, ConfigSite } from '../model';
import { reportIgnoredKey, type Rule } from './rule';
import { valueRule } from './table';
import { booleanOf, closest, effective, numberOf, stringOf, writtenAsInteger } from './values';

const QUANT_TYPES = ['nf4', 'fp4'];
/** Floating torch dtype names (getattr(torch, name)) that bitsandbytes 0.50 can compute 4-bit matmuls in. */
const COMPUTE_DTYPES = ['float32', 'float', 'float16', 'half', 'bfloat16'];
/** Other torch dtype attribute names: getattr succeeds, but they are no sensible compute dtype. */
const OTHER_TORCH_DTYPES = [
  'float64',
  'double',
  'uint8',
  'int8',
  'int16',
  'short',
  'int32',
  'int',
  'int64',
  'long',
  'bool',
  'complex64',
  'complex128',
  'float8_e4m3fn',
  'float8_e5m2',
];
/** Values BitsAndBytesConfig.to_dict() writes for an untouched 4-bit option: written for 8-bit models too. */
const FOUR_BIT_DEFAULTS: Record<string, string | boolean> = {
  bnb_4bit_compute_dtype: 'float32',
  bnb_4bit_quant_type: 'fp4',
  bnb_4bit_use_double_quant: false,
  bnb_4bit_quant_storage: 'uint8',
};

/** The effective public load flag: transformers reads load_in_4bit / load_in_8bit, never the _private copies. */
function loadFlag(site: ConfigSite, bits: 4 | 8): boolean {
  return booleanOf(effective(site, `load_in_${bits}bit`)) === true;
}

const both4And8: Rule = {
  id: 'bnb/4bit-and-8bit',
  methods: ['bitsandbytes'],
  defaultSeverity: 'error',
  description: 'load_in_4bit and load_in_8bit cannot both be true (transformers 5.23 BitsAndBytesConfig.__init__ raises).',
  check(site, ctx) {
    if (!loadFlag(site, 4) || !loadFlag(site, 8)) return;
    ctx.report({
      at: effective(site, 'load_in_8bit'),
      message:
        'load_in_4bit and load_in_8bit are both true; transformers 5.23 BitsAndBytesConfig raises ValueError. ' +
        'Choose one: 4-bit (NF4/FP4) for the smallest model, 8-bit (LLM.int8) for the best quality.',
      fixes: [
        { kind: 'setValue', key: 'load_in_8bit', value: false, title: 'Keep 4-bit (set load_in_8bit to false)' },
        { kind: 'setValue', key: 'load_in_4bit', value: false, title: 'Keep 8-bit (set load_in_4bit to false)' },
      ],
    });
  },
};

const noQuantization: Rule = {
  id: 'bnb/no-quantization',
  methods: ['bitsandbytes'],
  defaultSeverity: 'warning',
  description:
    'Neither load_in_4bit nor load_in_8bit is true: the config quantizes nothing (transformers 5.23 BitsAndBytesConfig.is_quantizable).',
  check(site, ctx) {
    const four = effective(site, 'load_in_4bit');
    const eight = effective(site, 'load_in_8bit');
    // Non-literal flags (Python variables) may well be true at run time.
    if ((four && four.value === undefined) || (eight && eight.value === undefined)) return;
    if (loadFlag(site, 4) || loadFlag(site, 8)) return;
    ctx.report({
      at: four ?? eight,
      message:
        'Neither load_in_4bit nor load_in_8bit is true, so BitsAndBytesConfig quantizes nothing (transformers 5.23 is_quantizable() is false). ' +
        'Set "load_in_4bit": true or "load_in_8bit": true.',
      fixes: [
        four
          ? { kind: 'setValue', key: 'load_in_4bit', value: true, title: 'Set load_in_4bit to true' }
          : { kind: 'addKey', key: 'load_in_4bit', value: true, title: 'Add load_in_4bit: true' },
      ],
    });
  },
};

const privateLoadFlag: Rule = {
  id: 'bnb/private-load-flag',
  methods: ['bitsandbytes'],
  defaultSeverity: 'warning',
  description:
    '_load_in_4bit/_load_in_8bit are serialized copies; transformers 5.23 BitsAndBytesConfig reads only load_in_4bit/load_in_8bit.',
  check(site, ctx) {
    for (const bits of ['4', '8']) {
      const priv = effective(site, `_load_in_${bits}bit`);
      if (priv === undefined || typeof priv.value !== 'boolean') continue;
      const pub = effective(site, `load_in_${bits}bit`);
      if (pub === undefined) {
        if (priv.value === false) continue; // a false copy alone changes nothing
        ctx.report({
          at: priv,
          on: 'key',
          message:
            `_load_in_${bits}bit is only the serialized copy that to_dict() writes; ` +
            `transformers 5.23 ignores it when loading, so this config does not enable ${bits}-bit. Rename it to load_in_${bits}bit.`,
          fixes: [{ kind: 'renameKey', key: `_load_in_${bits}bit`, newKey: `load_in_${bits}bit`, title: `Rename to load_in_${bits}bit` }],
        });
      } else if (typeof pub.value === 'boolean' && pub.value !== priv.value) {
        ctx.report({
          at: priv,
          message: `_load_in_${bits}bit (${priv.valueText}) disagrees with load_in_${bits}bit (${pub.valueText}); transformers 5.23 uses load_in_${bits}bit. Make them equal.`,
          fixes: [{ kind: 'setValue', key: `_load_in_${bits}bit`, value: pub.value, title: `Set _load_in_${bits}bit to ${pub.valueText}` }],
        });
      }
    }
  },
};

function changedFromDefault(e: ConfigEntry): boolean {
  const d = FOUR_BIT_DEFAULTS[e.key];
  return e.value !== undefined && e.value !== null && e.value !== d;
}

const fourBitOptionsIgnored: Rule = {
  id: 'bnb/4bit-options-ignored',
  methods: ['bitsandbytes'],
  defaultSeverity: 'warning',
  description: 'bnb_4bit_* options only act when load_in_4bit is true (transformers 5.23 BitsAndBytesConfig).',
  check(site, ctx) {
    const four = effective(site, 'load_in_4bit');
    if (loadFlag(site, 4) || (four && four.value === undefined)) return;
    for (const e of site.entries) {
      if (!e.key.startsWith('bnb_4bit_') || !changedFromDefault(e)) continue;
      reportIgnoredKey(
        ctx,
        e,
        `${e.key} only applies to 4-bit quantization, but load_in_4bit is not true, so it is silently ignored. Set "load_in_4bit": true or remove ${e.key}.`,
      );
    }
  },
};

const int8OptionsIgnored: Rule = {
  id: 'bnb/int8-options-ignored',
  methods: ['bitsandbytes'],
  defaultSeverity: 'warning',
  description:
    'llm_int8_threshold and llm_int8_has_fp16_weight only act for 8-bit (LLM.int8) layers, not with load_in_4bit (transformers 5.23, bitsandbytes 0.50 Linear4bit).',
  check(site, ctx) {
    if (!loadFlag(site, 4)) return;
    const threshold = effective(site, 'llm_int8_threshold');
    const t = numberOf(threshold);
    if (threshold && t !== undefined && t !== 6) {
      reportIgnoredKey(
        ctx,
        threshold,
        'llm_int8_threshold is the LLM.int8() outlier threshold; 4-bit layers do not use it, so this value is ignored. Remove it (or switch to load_in_8bit).',
      );
    }
    const fp16 = effective(site, 'llm_int8_has_fp16_weight');
    if (fp16 && booleanOf(fp16) === true) {
      reportIgnoredKey(
        ctx,
        fp16,
        'llm_int8_has_fp16_weight only applies to 8-bit (LLM.int8) layers; with load_in_4bit it is ignored. Remove it.',
      );
    }
  },
};

/** The fix for a quant type: its lower-case spelling when that is one, else the closest. */
function quantTypeFix(v: string): string {
  return QUANT_TYPES.includes(v.toLowerCase()) ? v.toLowerCase() : (closest(v, QUANT_TYPES) ?? 'nf4');
}

const quantType = valueRule({
  id: 'bnb/quant-type',
  methods: ['bitsandbytes'],
  defaultSeverity: 'error',
  description: "bnb_4bit_quant_type must be 'nf4' or 'fp4' (bitsandbytes 0.50 quantize_4bit raises on anything else).",
  keys: ['bnb_4bit_quant_type'],
  accepts: { values: QUANT_TYPES },
  message: (e) => {
    const fix = quantTypeFix(String(e.value));
    return (
      `bnb_4bit_quant_type "${String(e.value)}" is not a bitsandbytes 0.50 4-bit type: only 'nf4' and 'fp4' (lower case) exist, and quantizing raises. ` +
      `Use '${fix}'${fix === 'nf4' ? ' (best for normally distributed weights)' : ''}.`
    );
  },
  fixes: (e) => [{ value: quantTypeFix(String(e.value)), title: `Set to '${quantTypeFix(String(e.value))}'` }],
});

const computeDtype: Rule = {
  id: 'bnb/compute-dtype',
  methods: ['bitsandbytes'],
  defaultSeverity: 'error',
  description:
    'bnb_4bit_compute_dtype must name a torch dtype (transformers 5.23 does getattr(torch, name)); bitsandbytes 0.50 computes in float32/float16/bfloat16.',
  check(site, ctx) {
    const e = effective(site, 'bnb_4bit_compute_dtype');
    const raw = stringOf(e);
    if (e === undefined || raw === undefined) return;
    // "torch.bfloat16" written as a string is a common slip: getattr(torch, "torch.bfloat16") fails too.
    const v = raw.startsWith('torch.') ? raw.slice('torch.'.length) : raw;
    if (COMPUTE_DTYPES.includes(v) && v === raw) return;
    if (OTHER_TORCH_DTYPES.includes(v) && v === raw) {
      ctx.report({
        at: e,
        severity: 'warning',
        message: `bnb_4bit_compute_dtype "${raw}" is a torch dtype, but bitsandbytes 0.50 4-bit matmuls compute in float32, float16 or bfloat16. Use "bfloat16" (or "float16" on GPUs without bf16).`,
        fixes: [{ kind: 'setValue', key: 'bnb_4bit_compute_dtype', value: 'bfloat16', title: 'Use "bfloat16"' }],
      });
      return;
    }
    const fix = COMPUTE_DTYPES.includes(v) ? v : (closest(v, [...COMPUTE_DTYPES, ...OTHER_TORCH_DTYPES]) ?? 'bfloat16');
    const good = COMPUTE_DTYPES.includes(fix) ? fix : 'bfloat16';
    ctx.report({
      at: e,
      message: `bnb_4bit_compute_dtype "${raw}" is not a torch dtype name: transformers 5.23 BitsAndBytesConfig does getattr(torch, "${raw}") and fails. Write the bare name, e.g. "${good}".`,
      fixes: [{ kind: 'setValue', key: 'bnb_4bit_compute_dtype', value: good, title: `Use "${good}"` }],
    });
  },
};

const thresholdFloat: Rule = {
  id: 'bnb/threshold-float',
  methods: ['bitsandbytes'],
  defaultSeverity: 'error',
  description:
    'llm_int8_threshold must be a float: an integer literal (6) raises TypeError in transformers 5.23 BitsAndBytesConfig.post_init.',
  check(site, ctx) {
    const e = effective(site, 'llm_int8_threshold');
    if (e === undefined || !writtenAsInteger(e)) return;
    ctx.report({
      at: e,
      message: `llm_int8_threshold is written as the integer ${e.valueText}; transformers 5.23 BitsAndBytesConfig checks isinstance(value, float) and raises TypeError. Write ${e.valueText.trim()}.0.`,
    });
  },
};

export const bitsandbytesRules: readonly Rule[] = [
  both4And8,
  noQuantization,
  privateLoadFlag,
  fourBitOptionsIgnored,
  int8OptionsIgnored,
  quantType,
  computeDtype,
  thresholdFloat,
];
