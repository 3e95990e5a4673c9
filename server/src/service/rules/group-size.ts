// group_size must be -1 (per-channel) or positive. Shared by GPTQ and AWQ, which spell the key differently
// in AutoAWQ's quant_config.json (q_group_size).
import type { ConfigSite, Method } from '../model';
import type { Rule } from './rule';
import { valueRule } from './table';

/** `description` names the releases; `reader` names the one that reads this file kind, for the message. */
export function groupSizeRule(id: string, method: Method, description: string, reader: (site: ConfigSite) => string): Rule {
  return valueRule({
    id,
    methods: [method],
    defaultSeverity: 'error',
    description: `group_size must be -1 or a positive integer (${description}).`,
    keys: ['group_size', 'q_group_size'],
    accepts: { values: [-1], range: { above: 0, integer: true } },
    message: (e, site) =>
      `${e.key} is ${e.valueText}: it must be -1 (one group per output channel) or a positive integer such as 128 (${reader(site)} rejects anything else). Use 128 unless you have a reason not to.`,
    fixes: (e) => [{ value: 128 }, { value: -1, title: `Set ${e.key} to -1 (per-channel)` }],
  });
}
