// bitsandbytes 0.50 runs 4-bit inference on a CPU with AVX512-BF16 through a fused kernel: Linear4bit.forward
// (nn/modules.py) first repacks the weight with functional.py _convert_weight_packed_for_cpu, which asserts
// out_features % 32 == 0 (block_n) and reshapes absmax to [out, in / 64] (the 4-bit blocksize transformers uses),
// so a Linear outside those widths fails there. The GPU path takes any width.
import { isSkipped } from '../../../../../native/model';
import { layerPattern } from '../../modelAware/modelView';
import type { LiteralValue } from '../../model';
import { booleanOf, effective } from '../values';
import type { ModelRule } from './rule';
import { skipListOf } from './skipList';

const OUT_MULTIPLE = 32;
const IN_MULTIPLE = 64;
const LISTED = 6;

export const bnbCpuPackingRule: ModelRule = {
  id: 'model/bnb-cpu-4bit-shape',
  methods: ['bitsandbytes'],
  defaultSeverity: 'warning',
  description:
    "4-bit Linears fit bitsandbytes 0.50's fused CPU kernel: out_features % 32 == 0 and in_features % 64 == 0 (functional.py _convert_weight_packed_for_cpu).",
  check(site, ctx) {
    const load4 = effective(site, 'load_in_4bit');
    if (booleanOf(load4) !== true) return;
    const skip = skipListOf(site);
    const bad = new Map<string, string>();
    for (const l of ctx.view.linears) {
      if (isSkipped(l.module, skip) || (l.out % OUT_MULTIPLE === 0 && l.in % IN_MULTIPLE === 0)) continue;
      bad.set(layerPattern(l.module), `${layerPattern(l.module)} (in ${l.in}, out ${l.out})`);
    }
    if (bad.size === 0) return;
    const names = [...bad.values()];
    const listed = names.slice(0, LISTED).join(', ') + (names.length > LISTED ? `, and ${names.length - LISTED} more` : '');
    // Keeping them unquantized is the way around it; llm_int8_skip_modules replaces transformers' default list, so lm_head stays in it.
    const skipEntry = site.entries.find((e) => e.key === 'llm_int8_skip_modules');
    const current = Array.isArray(skipEntry?.value) ? skipEntry.value.filter((v): v is string => typeof v === 'string') : ['lm_head'];
    const added = [...new Set([...bad.keys()].map((p) => p.split('.').pop() ?? p))].filter((n) => !current.includes(n));
    const value: LiteralValue = [...current, ...added];
    ctx.report({
      at: load4,
      message:
        `On a CPU with AVX512-BF16, bitsandbytes 0.50 repacks every 4-bit Linear for its fused kernel (functional.py _convert_weight_packed_for_cpu), ` +
        `which needs out_features % ${OUT_MULTIPLE} == 0 and in_features % ${IN_MULTIPLE} == 0: ${listed} in ${ctx.view.model.ref} fail there (GPU inference is not affected). ` +
        'Keep these layers unquantized with llm_int8_skip_modules to run the model on such a CPU.',
      fixes: skipEntry
        ? [{ kind: 'setValue', key: 'llm_int8_skip_modules', value, title: `Add ${added.join(', ')} to llm_int8_skip_modules` }]
        : [{ kind: 'addKey', key: 'llm_int8_skip_modules', value, title: `Keep ${added.join(', ')} unquantized (llm_int8_skip_modules)` }],
    });
  },
};
