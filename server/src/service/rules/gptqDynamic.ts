// GPTQModel 7.7's per-module overrides (`dynamic`, gptqmodel/quantization/config.py): each key's regex must compile
// under PCRE2 (GPTQModel compiles it through pypcre and raises "invalid dynamic pattern"), and each override must be
// a key GPTQModel reads per module with a value it accepts (_normalize_dynamic_layer_config). Which modules a key
// matches is a model-aware rule (model/dynamicMatch.ts).
import { compileDynamicPattern, dynamicRules, ENGINE_DYNAMIC_KEYS, GPTQ_DYNAMIC_KEYS } from '../../../../native/model';
import type { DynamicRule, JsonObject } from '../../../../native/model';
import type { ConfigEntry, ConfigSite, LiteralValue } from '../model';
import type { Rule, RuleContext } from './rule';

/** The `dynamic` entry and its rules, when it is an object. */
export function dynamicOf(site: ConfigSite): { entry: ConfigEntry; rules: DynamicRule[] } | undefined {
  const entry = site.entries.find((e) => e.key === 'dynamic');
  if (!entry || typeof entry.value !== 'object' || entry.value === null || Array.isArray(entry.value)) return undefined;
  return { entry, rules: dynamicRules(entry.value as JsonObject) };
}

const dynamicPattern: Rule = {
  id: 'gptq/dynamic-pattern',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: 'Each dynamic key is a regex PCRE2 compiles (GPTQModel 7.7 _get_dynamic_patterns raises "invalid dynamic pattern").',
  check(site, ctx) {
    const dynamic = dynamicOf(site);
    if (!dynamic) return;
    for (const rule of dynamic.rules) {
      const compiled = compileDynamicPattern(rule.pattern);
      const range = ctx.locate(['dynamic', rule.key], 'key') ?? dynamic.entry.keyRange;
      if (compiled.ok === false) {
        ctx.report({
          range,
          message:
            `dynamic key ${JSON.stringify(rule.key)}: the regex ${JSON.stringify(rule.pattern)} does not compile (${compiled.error}); ` +
            'GPTQModel 7.7 raises "invalid dynamic pattern" when loading the config. Fix the regex.',
        });
      } else if (compiled.ok === 'unsupported') {
        ctx.report({
          range,
          severity: 'information',
          message: `dynamic key ${JSON.stringify(rule.key)} uses a PCRE2 ${compiled.construct} that the editor does not evaluate: the regex is not checked and no module is matched against it here.`,
        });
      }
    }
  },
};

const OVERRIDE_BITS = [2, 3, 4, 5, 6, 7, 8];

function overrideProblem(key: string, value: LiteralValue): { message: string; severity?: 'warning' } | undefined {
  if (!GPTQ_DYNAMIC_KEYS.includes(key))
    return {
      severity: 'warning',
      message: `GPTQModel 7.7 reads no "${key}" per module for GPTQ, so this override does nothing; it reads ${GPTQ_DYNAMIC_KEYS.join(', ')}.`,
    };
  if (key === 'bits' && !OVERRIDE_BITS.includes(value as number))
    return { message: `bits ${JSON.stringify(value)}: GPTQModel 7.7 raises "only support quantization of [2..8] bits"; use 2, 3, 4 or 8.` };
  if (key === 'bits' && (value as number) > 4 && (value as number) < 8)
    return {
      severity: 'warning',
      message:
        `bits ${JSON.stringify(value)}: GPTQModel 7.7 then writes the whole checkpoint in its planar format gptq_p, ` +
        "which transformers 5.23 GPTQConfig (2, 3, 4 or 8 bits) and QuantStudio's runtime do not load; use 2, 3, 4 or 8.",
    };
  if (key === 'group_size' && !(value === -1 || (typeof value === 'number' && Number.isInteger(value) && value > 0)))
    return {
      message: `group_size ${JSON.stringify(value)}: GPTQModel 7.7 raises for a group size other than -1 or a positive integer; use 128 or 32.`,
    };
  if ((key === 'sym' || key === 'desc_act') && typeof value !== 'boolean')
    return { severity: 'warning', message: `${key} ${JSON.stringify(value)} is not a boolean; write true or false.` };
  return undefined;
}

function checkOverrides(ctx: RuleContext, entry: ConfigEntry, key: string, overrides: LiteralValue): void {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) return; // the schema says so
  for (const [name, value] of Object.entries(overrides)) {
    const problem = overrideProblem(name, value);
    // A "-:" key's overrides are validated when the config loads but never applied: only what raises is reported.
    if (!problem || (key.startsWith('-:') && problem.severity)) continue;
    ctx.report({
      range: ctx.locate(['dynamic', key, name], 'key') ?? entry.keyRange,
      severity: problem.severity,
      message: `dynamic ${JSON.stringify(key)}: ${problem.message}`,
    });
  }
}

const dynamicOverride: Rule = {
  id: 'gptq/dynamic-override',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description:
    'Each dynamic override is a key GPTQModel 7.7 reads per module (looper/gptq_processor.py, utils/model.py make_quant) with a value _normalize_dynamic_layer_config accepts.',
  check(site, ctx) {
    const entry = site.entries.find((e) => e.key === 'dynamic');
    if (!entry || typeof entry.value !== 'object' || entry.value === null || Array.isArray(entry.value)) return;
    for (const [key, overrides] of Object.entries(entry.value)) checkOverrides(ctx, entry, key, overrides);
  },
};

const dynamicInJob: Rule = {
  id: 'gptq/dynamic-in-job',
  methods: ['gptq'],
  defaultSeverity: 'information',
  description:
    "A job file's quantize run honours dynamic's bits, group_size, desc_act and sym per module as GPTQModel 7.7 applies them and refuses any other override (native/lib/gptqDynamicPlan.ts).",
  check(site, ctx) {
    const dynamic = site.fileKind === 'job' ? dynamicOf(site) : undefined;
    if (!dynamic) return;
    for (const rule of dynamic.rules) {
      if (rule.skip) continue;
      for (const name of Object.keys(rule.overrides)) {
        if (ENGINE_DYNAMIC_KEYS.includes(name)) continue;
        ctx.report({
          range: ctx.locate(['dynamic', rule.key, name], 'key') ?? dynamic.entry.keyRange,
          message:
            `QuantStudio's quantize job refuses this config before any work: the engine honours ${ENGINE_DYNAMIC_KEYS.join(', ')} ` +
            `per module, not ${name}. Remove it, or quantize with GPTQModel 7.7.`,
        });
      }
    }
  },
};

export const gptqDynamicRules: readonly Rule[] = [dynamicPattern, dynamicOverride, dynamicInJob];
