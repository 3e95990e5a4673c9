// group_size must divide the in_features of every Linear the config quantizes: AutoAWQ's WQLinear asserts
// it, and GPTQModel's kernels refuse a layer whose in_features is not a multiple of the group size.
import type { ConfigSite } from '../../model';
import { isSkipped } from '../../../../../native/model';
import { layerPattern } from '../../modelAware/modelView';
import type { LinearShape } from '../../modelAware/modelView';
import { effective, numberOf } from '../values';
import type { ModelRule } from './rule';
import { skipListOf } from './skipList';

const LIBRARY = {
  gptq: 'GPTQModel 7.7 kernels (loaded through transformers 5.23) require in_features % group_size == 0 and refuse these layers',
  awq: 'AutoAWQ 0.2 WQLinear asserts in_features % group_size == 0, so quantizing or loading fails on these layers',
} as const;

const LISTED = 6;
const CANDIDATES = [128, 64, 32];

/** "model.layers.*.mlp.down_proj (in 11008)", one per Linear name across layers. */
export function offendingLayers(linears: readonly LinearShape[]): string[] {
  const seen = new Map<string, number>();
  for (const l of linears) if (!seen.has(layerPattern(l.module))) seen.set(layerPattern(l.module), l.in);
  return [...seen].map(([pattern, inFeatures]) => `${pattern} (in ${inFeatures})`);
}

function quantizedLinears(site: ConfigSite, linears: readonly LinearShape[]): LinearShape[] {
  const skip = skipListOf(site);
  return linears.filter((l) => !isSkipped(l.module, skip));
}

export const groupSizeDividesRule: ModelRule = {
  id: 'model/group-size-divides',
  methods: ['gptq', 'awq'],
  defaultSeverity: 'error',
  description: 'group_size divides the in_features of every Linear it applies to (AutoAWQ 0.2, GPTQModel 7.7).',
  check(site, ctx) {
    const e = effective(site, 'group_size', 'q_group_size');
    const g = numberOf(e);
    if (!e || g === undefined || !Number.isInteger(g) || g <= 0) return;
    const linears = quantizedLinears(site, ctx.view.linears);
    const bad = linears.filter((l) => l.in % g !== 0);
    if (bad.length === 0) return;
    const names = offendingLayers(bad);
    const listed = names.slice(0, LISTED).join(', ') + (names.length > LISTED ? `, and ${names.length - LISTED} more` : '');
    const method = site.method === 'awq' ? 'awq' : 'gptq';
    const fits = CANDIDATES.filter((c) => c !== g && linears.every((l) => l.in % c === 0));
    ctx.report({
      at: e,
      message: `${e.key} ${g} does not divide the in_features of ${listed} in ${ctx.view.model.ref}: ${LIBRARY[method]}. Use a group size that divides every in_features${fits.length ? ` (${fits.join(', ')} do)` : ''}.`,
      fixes: fits.map((c) => ({ kind: 'setValue' as const, key: e.key, value: c, title: `Set ${e.key} to ${c}` })),
    });
  },
};
