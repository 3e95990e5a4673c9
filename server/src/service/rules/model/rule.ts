// The contract of model-aware rules: a Rule that also sees the resolved target model. The service binds
// each one to the document's model (bindToModel) and runs it like any other rule, so findings, ranges
// and quick fixes work the same way.
import type { ConfigSite } from '../../model';
import type { ModelView } from '../../modelAware/modelView';
import type { Rule, RuleContext } from '../rule';

export interface ModelRuleContext extends RuleContext {
  view: ModelView;
  /** The model is the checkpoint in the config's own folder: its tensors are what this config describes. */
  ownCheckpoint: boolean;
}

/** A Rule whose check also sees the model; bindToModel turns it into a plain Rule. */
export interface ModelRule extends Omit<Rule, 'check'> {
  check(site: ConfigSite, ctx: ModelRuleContext): void;
}

export function bindToModel(rule: ModelRule, model: Omit<ModelRuleContext, keyof RuleContext>): Rule {
  return { ...rule, check: (site, ctx) => rule.check(site, { report: (finding) => ctx.report(finding), locate: ctx.locate, ...model }) };
}
