// A key that another spelling of the same setting overrides: AwqConfig reads `version` over `format`, GPTQConfig
// `checkpoint_format` over `format`. When both are written and disagree, the overridden one is reported.
import type { ConfigSite, Method } from '../model';
import type { Rule } from './rule';
import { effective, stringOf } from './values';

export interface OverriddenKey {
  id: string;
  methods: readonly Method[];
  description: string;
  /** The key that is ignored when both are written, and the one that wins. */
  overridden: string;
  winner: string;
  /** The library that reads this file kind, for the message. */
  reader: (site: ConfigSite) => string;
}

export function overriddenKeyRule({ id, methods, description, overridden, winner, reader }: OverriddenKey): Rule {
  return {
    id,
    methods,
    defaultSeverity: 'warning',
    description,
    check(site, ctx) {
      const loser = effective(site, overridden);
      const l = stringOf(loser);
      const w = stringOf(effective(site, winner));
      if (loser === undefined || l === undefined || w === undefined || l.toLowerCase() === w.toLowerCase()) return;
      ctx.report({
        at: loser,
        message: `${overridden} is "${l}" but ${winner} is "${w}": ${reader(site)} uses ${winner} and ignores ${overridden}. Remove ${overridden} or make them equal.`,
        fixes: [
          { kind: 'removeKey', key: overridden, title: `Remove ${overridden}` },
          { kind: 'setValue', key: overridden, value: w, title: `Set ${overridden} to "${w}"` },
        ],
      });
    },
  };
}
