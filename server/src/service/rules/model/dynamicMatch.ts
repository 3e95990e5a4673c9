// GPTQModel 7.7's `dynamic` against the model's modules (quantization/config.py _resolve_dynamic_override): a key whose
// regex matches no module does nothing, and when several keys match one module the first decides ("-:" keys first,
// then the rest, each in file order), so a later key with other settings is overruled there. vLLM reads the keys in
// file order without moving "-:" first (model_executor/layers/quantization/utils/gptq_utils.py get_dynamic_override).
import { compileDynamicPattern, dynamicRuleMatches } from '../../../../../native/model';
import { editDistance } from '../../didYouMean';
import { dynamicTargets, groupedModules, modulesByRule, ruleEffect, sameEffect } from '../../modelAware/dynamicModules';
import type { RuleModules } from '../../modelAware/dynamicModules';
import { dynamicOf } from '../gptqDynamic';
import type { ModelRule } from './rule';

/** The module names nearest to what the regex spells (its literal characters), for "closest modules". */
function closestNames(pattern: string, names: readonly string[]): string[] {
  const literal = pattern.replace(/\\[dwsDWS][+*]?|\.\*|\.\+|[\^$()[\]{}|?*+]|\\/g, '');
  return [...names]
    .map((n) => ({ n, d: editDistance(literal, n.length > literal.length ? n.slice(n.length - literal.length) : n) }))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, 3)
    .map(({ n }) => n);
}

/** The earlier rules that decide modules this rule also matches, with other settings. */
function overruledBy(all: readonly RuleModules[], self: RuleModules): Array<{ by: RuleModules; modules: string[] }> {
  const taken = new Set(self.decided);
  return all
    .filter((other) => other !== self && !sameEffect(other.rule, self.rule))
    .map((other) => ({ by: other, modules: self.matched.filter((m) => !taken.has(m) && other.decided.includes(m)) }))
    .filter((o) => o.modules.length > 0);
}

export const dynamicMatchRule: ModelRule = {
  id: 'model/dynamic-match',
  methods: ['gptq'],
  defaultSeverity: 'warning',
  description:
    'Each dynamic key matches a module of the model, and no module matched by two keys with different settings (GPTQModel 7.7 _resolve_dynamic_override: the first key wins, "-:" keys first).',
  check(site, ctx) {
    const dynamic = dynamicOf(site);
    if (!dynamic || dynamic.rules.length === 0) return;
    const all = modulesByRule(ctx.view, dynamic.rules);
    const ref = ctx.view.model.ref;
    for (const r of all) {
      const range = ctx.locate(['dynamic', r.rule.key], 'key') ?? dynamic.entry.keyRange;
      const key = JSON.stringify(r.rule.key);
      // A regex that does not compile, or one the editor cannot evaluate, is gptq/dynamic-pattern's.
      if (r.matched.length === 0 && compileDynamicPattern(r.rule.pattern).ok === true) {
        const anywhere = { ...r.rule, pattern: `.*${r.rule.pattern}` };
        const hint = dynamicTargets(ctx.view).some((m) => dynamicRuleMatches(anywhere, m))
          ? `Did you mean ${JSON.stringify(`${r.rule.key.slice(0, r.rule.key.length - r.rule.pattern.length)}.*${r.rule.pattern}`)}?`
          : `Closest module names: ${closestNames(r.rule.pattern, ctx.view.suggestions).join(', ')}.`;
        ctx.report({
          range,
          message: `dynamic key ${key} matches no module of ${ref} (GPTQModel 7.7 matches the full module name from its start, e.g. model.layers.0.mlp.down_proj): it does nothing. ${hint}`,
        });
        continue;
      }
      for (const { by, modules } of overruledBy(all, r)) {
        const vllm =
          by.rule.skip &&
          !r.rule.skip &&
          Object.keys(dynamic.entry.value as object).indexOf(by.rule.key) > Object.keys(dynamic.entry.value as object).indexOf(r.rule.key)
            ? ` vLLM reads the keys in file order and would give them ${key}'s settings instead: write ${JSON.stringify(by.rule.key)} first.`
            : '';
        ctx.report({
          range,
          message:
            `dynamic key ${key} also matches ${modules.length} module${modules.length === 1 ? '' : 's'} (${groupedModules(modules)}) that ${JSON.stringify(by.rule.key)} decides first ` +
            `(GPTQModel 7.7 takes the first matching key, "-:" keys first): ${modules.length === 1 ? 'it is' : 'they are'} ` +
            `${by.rule.skip ? '' : 'quantized with '}${ruleEffect(by.rule)}, not ${ruleEffect(r.rule)}.${vllm}`,
        });
      }
    }
  },
};
