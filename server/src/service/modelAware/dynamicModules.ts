// Which modules of a model each `dynamic` key matches and which it decides (GPTQModel 7.7: the first matching key,
// "-:" keys first), for the model rules and the hover on a key.
import { dynamicRuleFor, dynamicRuleMatches } from '../../../../native/model';
import type { DynamicRule, JsonValue } from '../../../../native/model';
import { layerPattern } from './modelView';
import type { ModelView } from './modelView';

/** The modules GPTQModel 7.7 matches `dynamic` against: every quantizable (or already quantized) Linear, and lm_head. */
export function dynamicTargets(view: ModelView): string[] {
  const modules = new Set(view.linears.map((l) => l.module));
  for (const name of view.tensorsByName.keys()) if (name.endsWith('.qweight')) modules.add(name.slice(0, -'.qweight'.length));
  modules.add('lm_head');
  return [...modules];
}

export interface RuleModules {
  rule: DynamicRule;
  matched: string[];
  /** The matched modules this rule decides (no earlier key matches them). */
  decided: string[];
}

export function modulesByRule(view: ModelView, rules: readonly DynamicRule[]): RuleModules[] {
  const targets = dynamicTargets(view);
  const winner = new Map(targets.map((m) => [m, dynamicRuleFor(rules, m)]));
  return rules.map((rule) => {
    const matched = targets.filter((m) => dynamicRuleMatches(rule, m));
    return { rule, matched, decided: matched.filter((m) => winner.get(m) === rule) };
  });
}

/** `model.layers.*.mlp.down_proj ×28` (one or two modules by their names), most modules first, at most `limit` groups (then "…"). */
export function groupedModules(modules: readonly string[], limit = 4): string {
  const groups = new Map<string, string[]>();
  for (const m of modules) groups.set(layerPattern(m), [...(groups.get(layerPattern(m)) ?? []), m]);
  const sorted = [...groups].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const shown = sorted.slice(0, limit).map(([pattern, all]) => (all.length > 2 ? `${pattern} ×${all.length}` : all.join(', ')));
  return sorted.length > limit ? `${shown.join(', ')}, … (${sorted.length - limit} more)` : shown.join(', ');
}

/** What a rule does to a module: "left unquantized", "bits 8, group_size 32" or "the config's own settings". */
export function ruleEffect(rule: DynamicRule): string {
  if (rule.skip) return 'left unquantized';
  const entries = Object.entries(rule.overrides);
  return entries.length === 0 ? "the config's own settings" : entries.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
}

/** Whether two rules give a module the same result. */
export function sameEffect(a: DynamicRule, b: DynamicRule): boolean {
  return a.skip === b.skip && (a.skip || canonical(a.overrides) === canonical(b.overrides));
}

function canonical(v: JsonValue): string {
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
    .join(',')}}`;
}
