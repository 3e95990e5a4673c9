// A job file's signRound on a model whose decoder layer the engine cannot differentiate: QuantStudio's engine refuses
// the job before any work (native/model/signRound.ts signRoundUnsupported, the engine's conditions), so the editor
// says it where signRound is written.
import { ModelConfigError, parseRuntimeConfig, signRoundUnsupported } from '../../../../native/model';
import type { JsonObject, RuntimeConfig } from '../../../../native/model';
import type { ServiceFinding } from '../finding';
import type { ParsedDocument } from '../parse/document';
import type { ModelView } from './modelView';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function signRoundModelFindings(parsed: ParsedDocument, view: ModelView): ServiceFinding[] {
  if (parsed.kind !== 'job' || !isObject(parsed.documentValue) || !isObject(parsed.documentValue.signRound)) return [];
  let config: RuntimeConfig;
  try {
    config = parseRuntimeConfig(view.model.config, 'config.json');
  } catch (error) {
    if (!(error instanceof ModelConfigError)) throw error;
    return []; // model/engine-support names why the engine cannot run it
  }
  const why = signRoundUnsupported(config);
  const range = why ? parsed.rangeOf(undefined, ['signRound'], 'key') : undefined;
  if (!why || !range) return [];
  return [
    {
      code: 'model/sign-round-model',
      severity: 'error',
      message:
        `${view.model.ref}: ${why}; learned rounding (signRound) runs on dense Llama-family layers (Llama, Mistral, ` +
        "Qwen2/3), so QuantStudio's engine refuses the job before any work. Remove signRound.",
      range,
    },
  ];
}
