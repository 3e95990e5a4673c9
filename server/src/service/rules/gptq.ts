// GPTQ rules: the checks of transformers 5.23 GPTQConfig (__init__/post_init) and of GPTQModel 7.7
// (QuantizeConfig loading and kernel selection), for every file kind that holds a GPTQ config.
import { AUTOGPTQ_DEFAULTS, QUANT_DEFAULTS } from '../../../../native/model';
import type { ConfigEntry, ConfigSite } from '../model';
import { groupSizeRule } from './group-size';
import { overriddenKeyRule } from './overridden';
import { reportIgnoredKey, type Rule } from './rule';
import { valueRule } from './table';
import { booleanOf, closest, effective, isTrue, numberOf, show, stringOf } from './values';

const GPTQ_BITS = [2, 3, 4, 8];
const BUILTIN_DATASETS = ['wikitext2', 'c4', 'c4-new'];
/** GPTQModel 7.7 checkpoint formats of quant_method "gptq" (anything else raises "Unknown quantization format"). */
const GPTQ_FORMATS = ['gptq', 'gptq_v2', 'marlin', 'bitblas'];
const LEGACY_KERNEL_KEYS = ['use_exllama', 'disable_exllama', 'exllama_config', 'use_cuda_fp16'];
const EXLLAMA_BACKENDS = ['exllama_v1', 'exllama_v2', 'exllama_eora'];
const MARLIN_BACKENDS = ['marlin', 'machete'];

/** Which library reads this file kind, for messages. */
function reader(site: ConfigSite): string {
  return site.fileKind === 'autogptq-quantize-config' ? 'GPTQModel 7.7 QuantizeConfig' : 'transformers 5.23 GPTQConfig';
}

const bitsRequired: Rule = {
  id: 'gptq/bits-required',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: 'bits is a required argument of transformers 5.23 GPTQConfig (from_dict raises TypeError without it).',
  check(site, ctx) {
    // Python calls may pass bits positionally, which the config model does not carry: only JSON is checked.
    if (site.fileKind !== 'model-config' && site.fileKind !== 'job') return;
    if (effective(site, 'bits') !== undefined) return;
    ctx.report({
      message:
        'GPTQ config has no "bits": transformers 5.23 GPTQConfig requires it and raises TypeError when loading. Add "bits": 4 (or 2, 3, 8).',
      fixes: [{ kind: 'addKey', key: 'bits', value: 4, title: 'Add "bits": 4' }],
    });
  },
};

const bits = valueRule({
  id: 'gptq/bits',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: 'bits must be 2, 3, 4 or 8 (transformers 5.23 GPTQConfig.post_init, GPTQModel 7.7 QuantizeConfig).',
  keys: ['bits'],
  accepts: { values: GPTQ_BITS },
  message: (e, site) =>
    `bits is ${e.valueText}, but GPTQ only supports 2, 3, 4 or 8 bits (${reader(site)} raises ValueError). 4 is the usual choice.`,
  fixes: () => [{ value: 4 }],
});

const dampPercent = valueRule({
  id: 'gptq/damp-percent',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: 'damp_percent must lie strictly between 0 and 1 (transformers 5.23 GPTQConfig.post_init, GPTQModel 7.7).',
  keys: ['damp_percent'],
  accepts: { range: { above: 0, below: 1 } },
  message: (e, site) => {
    const d = e.value as number;
    const hint = d >= 1 && d < 100 ? ` It is a fraction, not a percentage: ${d} % would be ${d / 100}.` : '';
    return `damp_percent is ${e.valueText}; it must be greater than 0 and less than 1 (${reader(site)} raises ValueError).${hint}`;
  },
  // the default of the library that reads this file kind
  fixes: (_e, site) => [
    { value: site.fileKind === 'autogptq-quantize-config' ? AUTOGPTQ_DEFAULTS.damp_percent : QUANT_DEFAULTS.gptq.damp_percent },
  ],
});

const dataset: Rule = {
  id: 'gptq/dataset',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: "dataset must be 'wikitext2', 'c4', 'c4-new' or a list of strings (transformers 5.23 GPTQConfig.post_init).",
  check(site, ctx) {
    const e = effective(site, 'dataset');
    if (e === undefined || e.value === undefined || e.value === null) return;
    const v = e.value;
    if (typeof v === 'string') {
      if (BUILTIN_DATASETS.includes(v)) return;
      const guess = closest(v, BUILTIN_DATASETS) ?? 'wikitext2';
      const ptb = v === 'ptb' || v === 'ptb-new' ? ' The PTB datasets were removed.' : '';
      ctx.report({
        at: e,
        message:
          `dataset "${v}" is not a built-in calibration set: ` +
          `transformers 5.23 GPTQConfig accepts only 'wikitext2', 'c4' or 'c4-new' as a name, otherwise a list of text samples.${ptb} Did you mean '${guess}'?`,
        fixes: [{ kind: 'setValue', key: 'dataset', value: guess, title: `Use '${guess}'` }],
      });
    } else if (Array.isArray(v)) {
      if (v.every((s) => typeof s === 'string')) return;
      ctx.report({
        at: e,
        message:
          'dataset must be a list of strings (one text sample each); this list holds other values, which the tokenizer cannot read. Quote every sample.',
      });
    } else {
      ctx.report({
        at: e,
        message: `dataset is ${show(v)}: transformers 5.23 GPTQConfig needs either one of 'wikitext2', 'c4', 'c4-new' or a list of strings, and raises ValueError otherwise.`,
        fixes: [{ kind: 'setValue', key: 'dataset', value: 'wikitext2', title: "Use 'wikitext2'" }],
      });
    }
  },
};

const actGroupAwareWithDescAct: Rule = {
  id: 'gptq/act-group-aware-with-desc-act',
  methods: ['gptq'],
  defaultSeverity: 'warning',
  description: 'act_group_aware is turned off when desc_act is true (transformers 5.23 GPTQConfig.post_init).',
  check(site, ctx) {
    const e = effective(site, 'act_group_aware');
    if (booleanOf(e) !== true || !isTrue(site, 'desc_act')) return;
    ctx.report({
      at: e,
      message:
        'act_group_aware: true has no effect together with desc_act: true; transformers 5.23 GPTQConfig switches it off (with a warning). Set one of them to false.',
      fixes: [
        { kind: 'setValue', key: 'act_group_aware', value: false, title: 'Set act_group_aware to false' },
        { kind: 'setValue', key: 'desc_act', value: false, title: 'Set desc_act to false (keep group-aware ordering)' },
      ],
    });
  },
};

// Configs that quantize (a GPTQConfig call, a job file); a checkpoint's config.json only describes one.
const quantizes = (site: ConfigSite): boolean => site.fileKind === 'python' || site.fileKind === 'job';

const actGroupAwarePerChannel: Rule = {
  id: 'gptq/act-group-aware-per-channel',
  methods: ['gptq'],
  defaultSeverity: 'warning',
  description:
    'group_size -1 with act_group_aware on (the default) makes GPTQModel 7.7 raise when it quantizes (quantization/gptq.py _validate_act_group_aware_shape).',
  check(site, ctx) {
    const groupSize = effective(site, 'group_size');
    if (!quantizes(site) || numberOf(groupSize) !== -1 || isTrue(site, 'desc_act')) return;
    if (booleanOf(effective(site, 'act_group_aware')) === false) return;
    // GPTAQ's quantizer (gptaq.py) has no group-aware order, so it never reaches that check (a call such as
    // GPTAQConfig(...) is not a literal: set too)
    const gptaq = effective(site, 'gptaq');
    if (gptaq && gptaq.value !== null) return;
    const engine =
      site.fileKind === 'job' ? " QuantStudio's engine quantizes it per channel without that order; the python backend fails." : '';
    ctx.report({
      at: groupSize,
      message:
        'group_size -1 (per channel) with act_group_aware on (the default of transformers 5.23 GPTQConfig and GPTQModel 7.7): ' +
        'GPTQModel 7.7 raises ValueError when it quantizes ("act_group_aware=True requires group_size > 0"), as its group-aware ' +
        `order needs groups.${engine} Set act_group_aware to false.`,
      fixes: [{ kind: 'setValue', key: 'act_group_aware', value: false, title: 'Set act_group_aware to false' }],
    });
  },
};

const legacyKernelKeys: Rule = {
  id: 'gptq/legacy-kernel-keys',
  methods: ['gptq'],
  defaultSeverity: 'warning',
  description:
    'use_exllama, disable_exllama, exllama_config and use_cuda_fp16 are no longer read by transformers 5.23 GPTQConfig; the kernel is chosen with backend.',
  check(site, ctx) {
    for (const e of site.entries) {
      if (!LEGACY_KERNEL_KEYS.includes(e.key)) continue;
      const replacement = legacyReplacement(e.key, e.value);
      reportIgnoredKey(
        ctx,
        e,
        `${e.key} is ignored by transformers 5.23 GPTQConfig (the AutoGPTQ exllama switches were removed). ${replacement} and remove this key.`,
      );
    }
  },
};

function legacyReplacement(key: string, value: unknown): string {
  const exllamaVersion =
    key === 'exllama_config' && value !== null && typeof value === 'object' ? (value as { version?: unknown }).version : undefined;
  if (exllamaVersion === 2) return 'Use "backend": "exllama_v2" instead';
  if ((key === 'use_exllama' && value === false) || (key === 'disable_exllama' && value === true)) {
    return 'To avoid exllama kernels, set "backend": "auto_trainable" (or "torch"/"triton")';
  }
  return 'Choose the kernel with "backend" ("auto" picks the fastest available)';
}

const formatConflict = overriddenKeyRule({
  id: 'gptq/format-conflict',
  methods: ['gptq'],
  description: 'format and checkpoint_format disagree; checkpoint_format wins (transformers 5.23 GPTQConfig.__init__, GPTQModel 7.7).',
  overridden: 'format',
  winner: 'checkpoint_format',
  reader,
});

const formatKeyRenamed: Rule = {
  id: 'gptq/format-key-renamed',
  methods: ['gptq'],
  defaultSeverity: 'information',
  description: 'quantize_config.json spells the weight layout checkpoint_format; "format" is the older field name (GPTQModel 7.7 maps it).',
  check(site, ctx) {
    if (site.fileKind !== 'autogptq-quantize-config') return;
    const format = effective(site, 'format');
    if (format === undefined || effective(site, 'checkpoint_format') !== undefined) return;
    ctx.report({
      at: format,
      on: 'key',
      message:
        'GPTQModel 7.7 writes this field as "checkpoint_format" ("format" is the older name, still mapped). Rename it so every loader reads the same key.',
      fixes: [{ kind: 'renameKey', key: 'format', newKey: 'checkpoint_format', title: 'Rename to checkpoint_format' }],
    });
  },
};

/** The fix for an unknown checkpoint format: the closest known one. */
const formatGuess = (e: ConfigEntry): string => closest(String(e.value), GPTQ_FORMATS) ?? 'gptq';

const checkpointFormat = valueRule({
  id: 'gptq/checkpoint-format',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: "checkpoint_format must be 'gptq', 'gptq_v2', 'marlin' or 'bitblas' (GPTQModel 7.7 raises 'Unknown quantization format').",
  keys: ['checkpoint_format', 'format'],
  eachKey: true,
  accepts: { values: GPTQ_FORMATS, ignoreCase: true },
  message: (e) =>
    `${e.key} "${String(e.value)}" is not a GPTQ checkpoint format: ` +
    `GPTQModel 7.7 knows 'gptq' (v1, read by every runtime), 'gptq_v2', 'marlin' and 'bitblas', and raises on anything else. Did you mean '${formatGuess(e)}'?`,
  fixes: (e) => [{ value: formatGuess(e), title: `Set ${e.key} to "${formatGuess(e)}"` }],
});

const gptqV2Compat: Rule = {
  id: 'gptq/v2-format-compat',
  methods: ['gptq'],
  defaultSeverity: 'information',
  description: 'checkpoint_format gptq_v2 is read by GPTQModel only (transformers 5.23 GPTQConfig docs).',
  check(site, ctx) {
    const e = effective(site, 'checkpoint_format', 'format');
    if (stringOf(e)?.toLowerCase() !== 'gptq_v2' || e === undefined) return;
    ctx.report({
      at: e,
      message:
        "gptq_v2 checkpoints load only with GPTQModel; vLLM, TGI and AutoGPTQ expect 'gptq' (v1). Use 'gptq' to publish for every runtime.",
      fixes: [{ kind: 'setValue', key: e.key, value: 'gptq', title: 'Write v1 ("gptq")' }],
    });
  },
};

const exllamaBits: Rule = {
  id: 'gptq/exllama-bits',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description:
    'The exllama kernels (backend exllama_v1/exllama_v2/exllama_eora) implement 4-bit weights only (GPTQModel 7.7 kernel validation).',
  check(site, ctx) {
    const backend = effective(site, 'backend');
    const name = stringOf(backend)?.toLowerCase();
    const b = numberOf(effective(site, 'bits'));
    if (backend === undefined || name === undefined || !EXLLAMA_BACKENDS.includes(name) || b === undefined || b === 4) return;
    ctx.report({
      at: backend,
      message:
        `backend "${name}" runs 4-bit weights only, but bits is ${b}: GPTQModel 7.7 refuses to load the model with this kernel. ` +
        `Use "backend": "auto" (or "torch"/"triton"), or quantize to 4 bits.`,
      fixes: [{ kind: 'setValue', key: 'backend', value: 'auto', title: 'Set backend to "auto"' }],
    });
  },
};

const marlinSettings: Rule = {
  id: 'gptq/marlin-settings',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description:
    'Marlin/Machete kernels need sym=true, bits 4 or 8 and group_size -1/32/64/128; the Marlin checkpoint format needs bits 4, group_size -1/128 and desc_act=false (GPTQModel 7.7, AutoGPTQ 0.7).',
  check(site, ctx) {
    const backend = stringOf(effective(site, 'backend'))?.toLowerCase();
    const format = stringOf(effective(site, 'checkpoint_format', 'format'))?.toLowerCase();
    const marlinFormat = format === 'marlin' || isTrue(site, 'is_marlin_format');
    const marlinKernel = backend !== undefined && MARLIN_BACKENDS.includes(backend);
    if (!marlinFormat && !marlinKernel) return;
    const what = marlinFormat ? 'the Marlin checkpoint format' : `backend "${backend}"`;
    const symE = effective(site, 'sym');
    if (booleanOf(symE) === false && symE) {
      ctx.report({
        at: symE,
        message: `${what} supports symmetric quantization only, but sym is false: GPTQModel 7.7 cannot load it. Set sym to true or choose another kernel ("backend": "auto").`,
        fixes: [{ kind: 'setValue', key: 'sym', value: true, title: 'Set sym to true' }],
      });
    }
    const bitsE = effective(site, 'bits');
    const b = numberOf(bitsE);
    const allowedBits = marlinFormat ? [4] : [4, 8];
    if (bitsE && b !== undefined && GPTQ_BITS.includes(b) && !allowedBits.includes(b)) {
      ctx.report({
        at: bitsE,
        message: `${what} supports bits ${allowedBits.join(' or ')}, but bits is ${b}. Quantize to 4 bits or use another kernel.`,
        fixes: [{ kind: 'setValue', key: 'bits', value: 4, title: 'Set bits to 4' }],
      });
    }
    const groupE = effective(site, 'group_size');
    const g = numberOf(groupE);
    const allowedGroups = marlinFormat ? [-1, 128] : [-1, 32, 64, 128];
    if (groupE && g !== undefined && (g === -1 || g > 0) && !allowedGroups.includes(g)) {
      ctx.report({
        at: groupE,
        message: `${what} supports group_size ${allowedGroups.join(', ')}, but group_size is ${g}. Use 128.`,
        fixes: [{ kind: 'setValue', key: 'group_size', value: 128, title: 'Set group_size to 128' }],
      });
    }
    const descE = effective(site, 'desc_act');
    if (marlinFormat && descE && booleanOf(descE) === true) {
      ctx.report({
        at: descE,
        message:
          'The Marlin checkpoint format stores no act-order permutation: desc_act must be false (AutoGPTQ 0.7 / GPTQModel 7.7 refuse to convert act-order weights).',
        fixes: [{ kind: 'setValue', key: 'desc_act', value: false, title: 'Set desc_act to false' }],
      });
    }
  },
};

const staticGroupsNoEffect: Rule = {
  id: 'gptq/static-groups-no-effect',
  methods: ['gptq'],
  defaultSeverity: 'information',
  description: 'static_groups only matters with desc_act=true and group_size > 0 (GPTQModel 7.7 / AutoGPTQ 0.7).',
  check(site, ctx) {
    const e = effective(site, 'static_groups');
    if (booleanOf(e) !== true || e === undefined) return;
    const g = numberOf(effective(site, 'group_size'));
    const reason = !isTrue(site, 'desc_act')
      ? 'desc_act is false, so columns are never reordered and groups are contiguous anyway'
      : g === -1
        ? 'group_size is -1, so there are no groups to fix'
        : undefined;
    if (reason === undefined) return;
    ctx.report({
      at: e,
      message: `static_groups: true has no effect here: ${reason}. It is meant for desc_act: true with group_size > 0, where it keeps groups contiguous so kernels need no g_idx lookups.`,
      fixes: [{ kind: 'removeKey', key: 'static_groups', title: 'Remove static_groups' }],
    });
  },
};

const batchNeedsPadToken: Rule = {
  id: 'gptq/batch-needs-pad-token',
  methods: ['gptq'],
  defaultSeverity: 'warning',
  description:
    'Calibration with batch_size > 1 pads samples and needs pad_token_id (transformers 5.23 GPTQConfig docs, optimum GPTQQuantizer).',
  check(site, ctx) {
    const e = effective(site, 'batch_size');
    const n = numberOf(e);
    if (e === undefined || n === undefined || n <= 1) return;
    const pad = effective(site, 'pad_token_id');
    if (pad !== undefined && pad.value !== null) return;
    ctx.report({
      at: e,
      message:
        `batch_size is ${n} but pad_token_id is not set: calibration samples of different length cannot be batched without it. ` +
        `Set pad_token_id (often the tokenizer's eos id) or use batch_size 1.`,
      fixes: [{ kind: 'setValue', key: 'batch_size', value: 1, title: 'Set batch_size to 1' }],
    });
  },
};

export const gptqRules: readonly Rule[] = [
  bitsRequired,
  bits,
  groupSizeRule('gptq/group-size', 'gptq', 'transformers 5.23 GPTQConfig.post_init, GPTQModel 7.7 QuantizeConfig', reader),
  dampPercent,
  dataset,
  actGroupAwareWithDescAct,
  actGroupAwarePerChannel,
  legacyKernelKeys,
  formatConflict,
  formatKeyRenamed,
  checkpointFormat,
  gptqV2Compat,
  exllamaBits,
  marlinSettings,
  staticGroupsNoEffect,
  batchNeedsPadToken,
];
