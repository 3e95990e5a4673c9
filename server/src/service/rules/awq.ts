// AWQ rules: the checks of transformers 5.23 AwqConfig (format/version and backend enums, inherited from
// GPTQConfig) and of AutoAWQ 0.2.9 quant_config.json, which spells keys w_bit / q_group_size.
import type { ConfigSite } from '../model';
import { groupSizeRule } from './group-size';
import { overriddenKeyRule } from './overridden';
import { reportIgnoredKey, type Rule } from './rule';
import { valueRule } from './table';
import { booleanOf, closest, effective, numberOf, stringOf } from './values';

/** transformers 5.23 AwqFormat. The 4.x values 'exllama' and 'ipex' are gone (kernels moved to `backend`). */
const TRANSFORMERS_VERSIONS = ['gemm', 'gemv', 'gemv_fast', 'llm-awq'];
/** AutoAWQ 0.2.9 quantizer versions. */
const AUTOAWQ_VERSIONS = ['gemm', 'gemv', 'gemv_fast', 'marlin'];
/** transformers 5.23 AwqBackend values ('autoawq' is read as 'auto'; 'llm-awq' switches the format). */
const BACKENDS = [
  'auto',
  'auto_trainable',
  'machete',
  'marlin',
  'exllama_v2',
  'exllama_v1',
  'gemm',
  'gemm_triton',
  'gemv',
  'gemv_fast',
  'torch_awq',
  'torch_fused_awq',
];
/** Legacy backend names transformers 5.23 AwqConfig still reads, both as backend "auto". */
const LEGACY_BACKENDS: ReadonlyMap<string, string> = new Map([
  [
    'autoawq',
    'backend "autoawq" is the legacy packing name; transformers 5.23 AwqConfig reads it as "auto" (kernels now come from GPTQModel). Write "auto".',
  ],
  [
    'llm-awq',
    'backend "llm-awq" is the legacy spelling: transformers 5.23 AwqConfig turns it into version "llm-awq" with backend "auto". Write it that way.',
  ],
]);
const LEGACY_KEYS = ['do_fuse', 'fuse_max_seq_len', 'modules_to_fuse', 'exllama_config'];
/** GPTQModel 7.7 SUPPORTS_BACKEND_MAP for AWQ: which kernels read which packed layout. */
const BACKENDS_BY_LAYOUT: Readonly<Record<string, readonly string[]>> = {
  gemm: ['machete', 'marlin', 'exllama_v2', 'exllama_v1', 'gemm', 'gemm_triton', 'torch_fused_awq', 'torch_awq'],
  gemv: ['gemv'],
  gemv_fast: ['gemv_fast'],
};

function isAutoAwq(site: ConfigSite): boolean {
  return site.fileKind === 'autoawq-quant-config';
}

const bits = valueRule({
  id: 'awq/bits',
  methods: ['awq'],
  defaultSeverity: 'error',
  description: 'AWQ kernels implement 4-bit weights only (AutoAWQ 0.2.9 WQLinear_*, GPTQModel 7.7 AWQ kernels used by transformers 5.23).',
  keys: ['bits', 'w_bit'],
  accepts: { values: [4] },
  message: (e) =>
    `${e.key} is ${e.valueText}, but every AWQ kernel (GEMM, GEMV, Marlin, exllama) packs 4-bit weights only; loading fails. Use 4, or GPTQ for ${String(e.value)}-bit weights.`,
  fixes: () => [{ value: 4 }],
});

const version: Rule = {
  id: 'awq/version',
  methods: ['awq'],
  defaultSeverity: 'error',
  description:
    'version/format must be gemm, gemv, gemv_fast or llm-awq (transformers 5.23 AwqConfig.post_init), or gemm, gemv, gemv_fast, marlin in AutoAWQ 0.2.9 quant_config.json (case-insensitive).',
  check(site, ctx) {
    const allowed = isAutoAwq(site) ? AUTOAWQ_VERSIONS : TRANSFORMERS_VERSIONS;
    const reader = isAutoAwq(site) ? 'AutoAWQ 0.2.9' : 'transformers 5.23 AwqConfig';
    for (const key of ['version', 'format']) {
      const e = effective(site, key);
      const v = stringOf(e);
      if (e === undefined || v === undefined || allowed.includes(v.toLowerCase())) continue;
      const lower = v.toLowerCase();
      let advice: string;
      if (lower === 'exllama' || lower === 'ipex') {
        advice = `'${lower}' was a kernel choice in transformers 4.x: keep version "gemm" and set "backend": "${lower === 'exllama' ? 'exllama_v2' : 'auto'}".`;
      } else if (lower === 'marlin') {
        advice = 'Marlin is a kernel here, not a weight layout: keep version "gemm" and set "backend": "marlin".';
      } else {
        advice = `Did you mean '${closest(v, allowed) ?? 'gemm'}'?`;
      }
      const fix = lower === 'exllama' || lower === 'ipex' || lower === 'marlin' ? 'gemm' : (closest(v, allowed) ?? 'gemm');
      ctx.report({
        at: e,
        message: `${key} "${v}" is not accepted by ${reader} (it knows ${allowed.join(', ')}) and loading raises ValueError. ${advice}`,
        fixes: [{ kind: 'setValue', key, value: fix, title: `Set ${key} to "${fix}"` }],
      });
    }
  },
};

const versionFormatConflict = overriddenKeyRule({
  id: 'awq/version-format-conflict',
  methods: ['awq'],
  description: 'version and format disagree; version wins (transformers 5.23 AwqConfig.__init__).',
  overridden: 'format',
  winner: 'version',
  reader: () => 'transformers 5.23 AwqConfig',
});

const backend: Rule = {
  id: 'awq/backend',
  methods: ['awq'],
  defaultSeverity: 'error',
  description:
    'backend must be one of transformers 5.23 AwqBackend (auto, marlin, exllama_v2, gemm, …); legacy autoawq / llm-awq are mapped.',
  check(site, ctx) {
    if (isAutoAwq(site)) return;
    const e = effective(site, 'backend');
    const raw = stringOf(e);
    if (e === undefined || raw === undefined) return;
    const v = raw.toLowerCase(); // GPTQConfig.__init__ lower-cases backend
    if (BACKENDS.includes(v)) return;
    const legacy = LEGACY_BACKENDS.get(v);
    if (legacy !== undefined) {
      ctx.report({
        at: e,
        severity: 'information',
        message: legacy,
        fixes: [{ kind: 'setValue', key: 'backend', value: 'auto', title: 'Set backend to "auto"' }],
      });
      return;
    }
    const guess = closest(v, BACKENDS) ?? 'auto';
    ctx.report({
      at: e,
      message: `backend "${raw}" is not an AWQ backend: transformers 5.23 AwqConfig raises ValueError. Valid: ${BACKENDS.join(', ')}. Did you mean '${guess}'?`,
      fixes: [{ kind: 'setValue', key: 'backend', value: guess, title: `Set backend to "${guess}"` }],
    });
  },
};

const backendVersionMismatch: Rule = {
  id: 'awq/backend-layout-mismatch',
  methods: ['awq'],
  defaultSeverity: 'warning',
  description:
    'An explicit AWQ backend must read the packed layout named by version (GPTQModel 7.7 SUPPORTS_BACKEND_MAP; an explicit backend is not checked against it).',
  check(site, ctx) {
    if (isAutoAwq(site)) return;
    const backendE = effective(site, 'backend');
    const backendName = stringOf(backendE)?.toLowerCase();
    const layout = (stringOf(effective(site, 'version', 'format')) ?? 'gemm').toLowerCase();
    const readers = BACKENDS_BY_LAYOUT[layout];
    if (backendE === undefined || backendName === undefined || readers === undefined || !BACKENDS.includes(backendName)) return;
    if (backendName === 'auto' || backendName === 'auto_trainable' || readers.includes(backendName)) return;
    ctx.report({
      at: backendE,
      message:
        `backend "${backendName}" reads ${backendName === 'gemv' || backendName === 'gemv_fast' ? backendName.toUpperCase() : 'GEMM'}-packed weights, but version is "${layout}": ` +
        `GPTQModel 7.7 does not check an explicit backend against the layout, so loading fails or produces garbage. Use "backend": "auto" or ${readers.map((r) => `"${r}"`).join(', ')}.`,
      fixes: [{ kind: 'setValue', key: 'backend', value: 'auto', title: 'Set backend to "auto"' }],
    });
  },
};

const gemvBatchOne: Rule = {
  id: 'awq/gemv-batch-size-one',
  methods: ['awq'],
  defaultSeverity: 'information',
  description:
    'GEMV weights are only faster at batch size 1; GEMM is better from batch size ~8 (transformers 5.23 AwqConfig docs, AutoAWQ 0.2.9).',
  check(site, ctx) {
    const e = effective(site, 'version', 'format');
    const v = stringOf(e)?.toLowerCase();
    if (e === undefined || (v !== 'gemv' && v !== 'gemv_fast')) return;
    ctx.report({
      at: e,
      message: `${v.toUpperCase()} layout is tuned for batch size 1 (single-stream decoding); for batched serving or long prompts use "gemm".`,
      fixes: [{ kind: 'setValue', key: e.key, value: isAutoAwq(site) ? 'GEMM' : 'gemm', title: 'Use GEMM' }],
    });
  },
};

const marlinZeroPoint: Rule = {
  id: 'awq/marlin-zero-point',
  methods: ['awq'],
  defaultSeverity: 'error',
  description: 'AutoAWQ 0.2.9 Marlin weights are symmetric: version Marlin needs zero_point false and q_group_size 128 or -1.',
  check(site, ctx) {
    if (!isAutoAwq(site)) return;
    const v = stringOf(effective(site, 'version'))?.toLowerCase();
    if (v !== 'marlin') return;
    const zp = effective(site, 'zero_point');
    // zero_point defaults to true in AutoAWQ, so a missing key is as wrong as an explicit true.
    if (zp === undefined || booleanOf(zp) === true) {
      ctx.report({
        at: zp,
        message:
          'Marlin weights have no zero point: AutoAWQ 0.2.9 refuses version "Marlin" with zero_point true (the default). Set "zero_point": false.',
        fixes: [
          zp === undefined
            ? { kind: 'addKey', key: 'zero_point', value: false, title: 'Add "zero_point": false' }
            : { kind: 'setValue', key: 'zero_point', value: false, title: 'Set zero_point to false' },
        ],
      });
    }
    const g = effective(site, 'q_group_size', 'group_size');
    const gv = numberOf(g);
    if (g !== undefined && gv !== undefined && gv !== 128 && gv !== -1 && gv > 0) {
      ctx.report({
        at: g,
        message: `Marlin kernels support group size 128 or -1, not ${gv} (AutoAWQ 0.2.9). Use 128.`,
        fixes: [{ kind: 'setValue', key: g.key, value: 128, title: `Set ${g.key} to 128` }],
      });
    }
  },
};

const legacyKeys: Rule = {
  id: 'awq/legacy-keys',
  methods: ['awq'],
  defaultSeverity: 'warning',
  description:
    'do_fuse, fuse_max_seq_len, modules_to_fuse and exllama_config are no longer read by transformers 5.23 AwqConfig (fusing removed; kernels via backend).',
  check(site, ctx) {
    if (isAutoAwq(site)) return;
    for (const e of site.entries) {
      if (!LEGACY_KEYS.includes(e.key)) continue;
      const instead =
        e.key === 'exllama_config'
          ? 'Choose the kernel with "backend": "exllama_v2" (or "exllama_v1")'
          : 'Module fusing was removed; nothing replaces it';
      reportIgnoredKey(ctx, e, `${e.key} is ignored by transformers 5.23 AwqConfig. ${instead}. Remove the key.`);
    }
  },
};

const exllamaNotSerializable: Rule = {
  id: 'awq/exllama-not-serializable',
  methods: ['awq'],
  defaultSeverity: 'information',
  description: 'A model loaded with an exllama AWQ backend cannot be saved again (transformers 5.23 AwqQuantizer.is_serializable).',
  check(site, ctx) {
    const e = effective(site, 'backend');
    const v = stringOf(e)?.toLowerCase();
    if (e === undefined || (v !== 'exllama_v1' && v !== 'exllama_v2')) return;
    ctx.report({
      at: e,
      message: `With backend "${v}" the model loads and runs, but save_pretrained refuses to write it (transformers 5.23). Use "auto" if you need to save the model again.`,
    });
  },
};

export const awqRules: readonly Rule[] = [
  bits,
  groupSizeRule('awq/group-size', 'awq', 'AutoAWQ 0.2.9, GPTQModel 7.7 AWQ kernels', (site) =>
    isAutoAwq(site) ? 'AutoAWQ 0.2.9' : 'GPTQModel 7.7, which loads AWQ weights for transformers 5.23,',
  ),
  version,
  versionFormatConflict,
  backend,
  backendVersionMismatch,
  gemvBatchOne,
  marlinZeroPoint,
  legacyKeys,
  exllamaNotSerializable,
];
