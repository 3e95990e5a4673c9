// Whether QuantStudio's own engine can run the target model (native/model/runtimeConfig.ts decides, the same
// parser the jobs use): an architecture, RoPE type or config field it cannot honour is named in the editor, so
// a job file is not run only to be refused. Other configs get it as information: vLLM or transformers may
// still serve the model.
import { ModelConfigError, parseRuntimeConfig } from '../../../../../native/model';
import type { ModelRule } from './rule';

export const engineSupportRule: ModelRule = {
  id: 'model/engine-support',
  methods: ['gptq', 'awq', 'bitsandbytes'],
  defaultSeverity: 'information',
  description:
    "The target model is one QuantStudio's engine runs (its config.json parsed as the quantize, benchmark and generate jobs parse it).",
  check(site, ctx) {
    try {
      parseRuntimeConfig(ctx.view.model.config, 'config.json');
    } catch (error) {
      if (!(error instanceof ModelConfigError)) throw error;
      const job = site.fileKind === 'job';
      ctx.report({
        range: site.anchorRange,
        severity: job ? 'warning' : 'information',
        message:
          `QuantStudio's engine cannot run ${ctx.view.model.ref}: ${error.message}.` +
          (job ? ' Quantize, Benchmark and Generate refuse this job before they start;' : '') +
          ' validation and the memory estimate still work.',
      });
    }
  },
};
