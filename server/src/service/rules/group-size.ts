// group_size must be -1 (per-channel) or positive. Shared by GPTQ and AWQ, which spell the key differently
// in AutoAWQ's quant_config.json (q_group_size).
import type { ConfigSite, Method } from '../model';
import type { Rule } from './rule';
import { effective, numberOf } from './values';

/** `description` names the releases; `reader` names the one that reads this file kind, for the message. */
export function groupSizeRule(id: string, method: Method, description: string, reader: (site: ConfigSite) => string): Rule {
  return {
    id,
    methods: [method],
    defaultSeverity: 'error',
    description: `group_size must be -1 or a positive integer (${description}).`,
    check(site, ctx) {
      const e = effective(site, 'group_size', 'q_group_size');
      const g = numberOf(e);
      if (e === undefined || g === undefined) return;
      if (g === -1 || (g > 0 && Number.isInteger(g))) return;
      ctx.report({
        at: e,
        message: `${e.key} is ${e.valueText}: it must be -1 (one group per output channel) or a positive integer such as 128 (${reader(site)} rejects anything else). Use 128 unless you have a reason not to.`,
        fixes: [
          { kind: 'setValue', key: e.key, value: 128, title: `Set ${e.key} to 128` },
          { kind: 'setValue', key: e.key, value: -1, title: `Set ${e.key} to -1 (per-channel)` },
        ],
      });
    },
  };
}
