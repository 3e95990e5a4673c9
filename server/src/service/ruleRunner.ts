// Runs the semantic rules (rules/index.ts) over one config site: every rule whose methods include the
// site's method, each with a RuleContext that turns its reports into findings with exact ranges.
import type { ServiceFinding } from './finding';
import type { ConfigSite } from './model';
import type { Rule, RuleContext } from './rules/rule';

function contextFor(rule: Rule, site: ConfigSite, findings: ServiceFinding[]): RuleContext {
  return {
    report(report) {
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
}

export function ruleFindings(rules: readonly Rule[], site: ConfigSite): ServiceFinding[] {
  const method = site.method;
  if (typeof method !== 'string') return [];
  const findings: ServiceFinding[] = [];
  for (const rule of rules) {
    if (!rule.methods.includes(method)) continue;
    try {
      rule.check(site, contextFor(rule, site, findings));
    } catch (error) {
      // One faulty rule must not take the other findings (or the server) with it.
      findings.push({
        code: 'internal/rule-failed',
        severity: 'information',
        message: `Rule ${rule.id} could not check this config: ${error instanceof Error ? error.message : String(error)}`,
        range: site.anchorRange,
      });
    }
  }
  return findings;
}
