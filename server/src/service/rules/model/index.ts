// Every model-aware rule, in reporting order. They run only when the document's target model is resolved.
import { bnbCpuPackingRule } from './bnbCpuPacking';
import { checkpointMatchRule } from './checkpointMatch';
import { dynamicMatchRule } from './dynamicMatch';
import { engineSupportRule } from './engineSupport';
import { gptaqMoeRule } from './gptaqMoe';
import { groupSizeDividesRule } from './groupSizeDivides';
import { kernelShapesRule } from './kernelShapes';
import { moduleNamesRule } from './moduleNames';
import type { ModelRule } from './rule';

export type { ModelRule, ModelRuleContext } from './rule';
export { bindToModel } from './rule';

export const modelRules: readonly ModelRule[] = [
  groupSizeDividesRule,
  moduleNamesRule,
  dynamicMatchRule,
  kernelShapesRule,
  bnbCpuPackingRule,
  checkpointMatchRule,
  engineSupportRule,
  gptaqMoeRule,
];
