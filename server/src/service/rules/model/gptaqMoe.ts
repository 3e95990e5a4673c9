// GPTAQ on a Mixture-of-Experts model: QuantStudio's engine refuses it before any work (an expert sees different
// tokens in the full-precision and the quantized model, so their inputs cannot be paired), so a job file asking for it
// is flagged where gptaq is set, with removing it as the fix.
import { ModelConfigError, parseRuntimeConfig } from '../../../../../native/model';
import { effective } from '../values';
import type { ModelRule } from './rule';

function experts(config: Record<string, unknown>): number {
  try {
    return parseRuntimeConfig(config, 'config.json').moe?.experts ?? 0;
  } catch (error) {
    if (!(error instanceof ModelConfigError)) throw error;
    return 0; // model/engine-support names why the engine cannot run it
  }
}

export const gptaqMoeRule: ModelRule = {
  id: 'model/gptaq-moe',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: "gptaq on a Mixture-of-Experts model: QuantStudio's engine refuses the quantize job (pipeline.cc Validate).",
  check(site, ctx) {
    if (site.fileKind !== 'job') return;
    const gptaq = effective(site, 'gptaq');
    if (!gptaq || gptaq.value === null) return;
    const count = experts(ctx.view.model.config);
    if (count === 0) return;
    ctx.report({
      at: gptaq,
      on: 'key',
      message:
        `${ctx.view.model.ref} is a Mixture-of-Experts model (${count} experts): QuantStudio's engine refuses gptaq there, as an ` +
        'expert sees different tokens in the full-precision and the quantized model. Remove gptaq.',
      fixes: [{ kind: 'removeKey', key: gptaq.key, title: 'Remove gptaq' }],
    });
  },
};
