// The contract between semantic rules and the rest of the service. A rule looks at one ConfigSite and
// reports findings; quick fixes are described abstractly (set/rename/remove/add a key) and turned into
// text edits for JSON or Python by the service, so a rule never deals with syntax.
import type { ConfigEntry, ConfigSite, LiteralValue, Method, Range } from '../model';
import type { ValuePath } from '../parse/document';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export type Fix =
  | { kind: 'setValue'; key: string; value: LiteralValue; title?: string }
  | { kind: 'renameKey'; key: string; newKey: string; title?: string }
  | { kind: 'removeKey'; key: string; title?: string }
  | { kind: 'addKey'; key: string; value: LiteralValue; title?: string };

export interface Finding {
  ruleId: string;
  severity: Severity;
  /** Says what is wrong and what to do; names the library release the rule comes from. */
  message: string;
  range: Range;
  fixes?: Fix[];
}

/** Context a rule may use; `model` is filled by model-aware resolution when the target model is known. */
export interface RuleContext {
  /** Report a finding on an entry's value (default), its key, or the site anchor when `entry` is undefined. */
  report(
    finding: Omit<Finding, 'ruleId' | 'severity' | 'range'> & {
      severity?: Severity;
      at?: ConfigEntry;
      on?: 'key' | 'value' | 'entry';
      range?: Range;
    },
  ): void;
  /** Source range of a key or value below the site (e.g. ['dynamic', '-:.*lm_head'], 'key'). */
  locate(path: ValuePath, part?: 'key' | 'value'): Range | undefined;
}

export interface Rule {
  /** Stable id, shown as the diagnostic code, e.g. 'bnb/both-4bit-and-8bit'. */
  id: string;
  /** Methods the rule applies to. */
  methods: readonly Method[];
  defaultSeverity: Severity;
  /** One line for docs: what the rule checks and which release it comes from. */
  description: string;
  check(site: ConfigSite, ctx: RuleContext): void;
}

/** A key the library ignores: reported on the key, and the fix removes it. */
export function reportIgnoredKey(ctx: RuleContext, entry: ConfigEntry, message: string): void {
  ctx.report({ at: entry, on: 'key', message, fixes: [{ kind: 'removeKey', key: entry.key, title: `Remove ${entry.key}` }] });
}
