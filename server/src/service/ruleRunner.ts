// Runs the semantic rules (rules/index.ts) over one config site: every rule whose methods include the
// site's method, each with a RuleContext that turns its reports into findings with exact ranges. A rule
// reports at most MAX_RULE_FINDINGS per config (a file with 100,000 repeated keys gets one note, not 99,999).
import type { ServiceFinding } from './finding';
import type { ConfigSite, Range } from './model';
import type { ParsedDocument, ValuePath } from './parse/document';
import { MAX_RULE_FINDINGS } from './parse/limits';
import type { Rule, RuleContext } from './rules/rule';

type Locate = RuleContext['locate'];

/** Ranges below the site at `index` of a parsed document, for rules that point inside a value. */
export function siteLocator(parsed: ParsedDocument, index: number): Locate {
  const site = parsed.sites[index];
  return (path: ValuePath, part: 'key' | 'value' = 'value'): Range | undefined =>
    parsed.kind === 'python'
      ? parsed.rangeOf(site, path, part)
      : parsed.rangeOf(undefined, [...(parsed.sitePaths[index] ?? []), ...path], part);
}

function contextFor(rule: Rule, site: ConfigSite, findings: ServiceFinding[], locate: Locate): { context: RuleContext; cut(): number } {
  let reported = 0;
  const context: RuleContext = {
    locate,
    report(report) {
      if (++reported > MAX_RULE_FINDINGS) return;
      const { at, on = 'value' } = report;
      const anchor = at ? (on === 'key' ? at.keyRange : on === 'entry' ? at.range : at.valueRange) : site.anchorRange;
      findings.push({
        code: rule.id,
        severity: report.severity ?? rule.defaultSeverity,
        message: report.message,
        range: report.range ?? anchor,
        fixes: report.fixes && report.fixes.length > 0 ? report.fixes : undefined,
      });
    },
  };
  return { context, cut: () => Math.max(0, reported - MAX_RULE_FINDINGS) };
}

export function ruleFindings(rules: readonly Rule[], site: ConfigSite, locate: Locate = () => undefined): ServiceFinding[] {
  const method = site.method;
  if (typeof method !== 'string') return [];
  const findings: ServiceFinding[] = [];
  for (const rule of rules) {
    if (!rule.methods.includes(method)) continue;
    const { context, cut } = contextFor(rule, site, findings, locate);
    try {
      rule.check(site, context);
    } catch (error) {
      // One faulty rule must not take the other findings (or the server) with it.
      findings.push({
        code: 'internal/rule-failed',
        severity: 'information',
        message: `Rule ${rule.id} could not check this config: ${error instanceof Error ? error.message : String(error)}`,
        range: site.anchorRange,
      });
    }
    if (cut() > 0) {
      findings.push({
        code: rule.id,
        severity: 'information',
        message: `${cut()} more findings of ${rule.id} in this config are not shown (at most ${MAX_RULE_FINDINGS} per rule).`,
        range: site.anchorRange,
      });
    }
  }
  return findings;
}
