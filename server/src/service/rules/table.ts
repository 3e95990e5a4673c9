// Rules that check one key's value against a set or a range are table rows: the row names the key (and its
// other spellings), what is accepted, the message and the fixes. Code is left for rules that relate keys,
// depend on the file kind beyond the message, or need the model.
import type { ConfigEntry, ConfigSite, LiteralValue, Method } from '../model';
import type { Fix, Rule, Severity } from './rule';
import { effective } from './values';

export interface ValueRow {
  id: string;
  methods: readonly Method[];
  defaultSeverity: Severity;
  /** One line for docs, naming the release the rule comes from. */
  description: string;
  /** The key and its other spellings; the entry that takes effect (the last) is checked, or with `eachKey` the
   *  last entry of every key (for keys a library reads separately, like GPTQ's checkpoint_format and format). */
  keys: readonly string[];
  eachKey?: boolean;
  /** Accepted: one of `values` (`ignoreCase`: as the library lower-cases strings first), or a number in `range`
   *  (ends exclusive). Values of another type are left to the schema. */
  accepts: { values?: readonly (number | string)[]; ignoreCase?: boolean; range?: { above?: number; below?: number; integer?: boolean } };
  message: (e: ConfigEntry, site: ConfigSite) => string;
  /** The values the quick fixes set (title: "Set <key> to <value>" unless given). */
  fixes?: (e: ConfigEntry, site: ConfigSite) => ReadonlyArray<{ value: LiteralValue; title?: string }>;
}

function accepted(accepts: ValueRow['accepts'], value: number | string): boolean {
  if (accepts.values?.includes(accepts.ignoreCase && typeof value === 'string' ? value.toLowerCase() : value)) return true;
  const r = accepts.range;
  if (r === undefined || typeof value !== 'number') return false;
  return (
    (r.above === undefined || value > r.above) && (r.below === undefined || value < r.below) && (!r.integer || Number.isInteger(value))
  );
}

/** The type a row checks: its values' type, or number for a range. */
function checks(accepts: ValueRow['accepts'], value: LiteralValue | undefined): value is number | string {
  const types = new Set<string>((accepts.values ?? []).map((v) => typeof v));
  if (accepts.range) types.add('number');
  return (typeof value === 'number' || typeof value === 'string') && types.has(typeof value);
}

export function valueRule(row: ValueRow): Rule {
  return {
    id: row.id,
    methods: row.methods,
    defaultSeverity: row.defaultSeverity,
    description: row.description,
    check(site, ctx) {
      const entries = row.eachKey ? row.keys.map((key) => effective(site, key)) : [effective(site, ...row.keys)];
      for (const e of entries) {
        if (e === undefined || !checks(row.accepts, e.value) || accepted(row.accepts, e.value)) continue;
        const fixes: Fix[] | undefined = row
          .fixes?.(e, site)
          .map(({ value, title }) => ({ kind: 'setValue', key: e.key, value, title: title ?? `Set ${e.key} to ${String(value)}` }));
        ctx.report({ at: e, message: row.message(e, site), ...(fixes ? { fixes } : {}) });
      }
    },
  };
}
