// Every semantic rule, in reporting order. The service runs the rules whose `methods` include a site's method;
// sites of methods we do not validate (fp8, hqq, …) run none.
import { awqRules } from './awq';
import { bitsandbytesRules } from './bitsandbytes';
import { commonRules } from './common';
import { gptqRules } from './gptq';
import { gptqDynamicRules } from './gptqDynamic';
import type { Rule } from './rule';

export type { Finding, Fix, Rule, RuleContext, Severity } from './rule';

export const allRules: readonly Rule[] = [...commonRules, ...gptqRules, ...gptqDynamicRules, ...awqRules, ...bitsandbytesRules];
