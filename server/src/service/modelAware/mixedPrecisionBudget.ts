// A job file's mixedPrecision budget against the resolved model: QuantStudio's engine refuses a budget outside what the
// model stores with every decoder layer at the config's width and with every one at the wide width, before any work
// (native/model/bitsAllocation.ts checkBudget, the same check), so the editor says it where the budget is written.
import { checkBudget, QuantizeConfigError } from '../../../../native/model';
import type { JsonObject } from '../../../../native/model';
import type { ServiceFinding } from '../finding';
import type { ParsedDocument } from '../parse/document';
import type { ModelView } from './modelView';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mixedPrecisionBudgetFindings(parsed: ParsedDocument, view: ModelView): ServiceFinding[] {
  if (parsed.kind !== 'job' || !isObject(parsed.documentValue)) return [];
  const { mixedPrecision, quantization_config: config } = parsed.documentValue;
  // The schema reports a mistyped mixedPrecision; this only judges a well-formed one against the model.
  if (!isObject(mixedPrecision) || !isObject(config) || typeof mixedPrecision.bitsPerWeight !== 'number') return [];
  const bits = mixedPrecision.bits;
  try {
    checkBudget(view.model.tensors, config, { bitsPerWeight: mixedPrecision.bitsPerWeight, ...(typeof bits === 'number' ? { bits } : {}) });
    return [];
  } catch (error) {
    if (!(error instanceof QuantizeConfigError)) throw error;
    const at = error.message.startsWith('mixedPrecision.bits:')
      ? ['mixedPrecision', 'bits']
      : error.message.startsWith('mixedPrecision.bitsPerWeight')
        ? ['mixedPrecision', 'bitsPerWeight']
        : ['mixedPrecision'];
    const range = parsed.rangeOf(undefined, at, at.length === 1 ? 'key' : 'value');
    if (!range) return [];
    return [
      {
        code: 'model/mixed-precision-budget',
        severity: 'error',
        message: `${view.model.ref}: ${error.message} (QuantStudio's engine refuses the job before any work).`,
        range,
      },
    ];
  }
}
