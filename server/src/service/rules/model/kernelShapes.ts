// The GPTQ kernel a config picks with `backend` must take every quantized Linear's shape: GPTQModel 7.7
// validates in_features / out_features against what each kernel takes (native/model/gptqKernels.ts: ExLlama v2's
// divisors, Marlin's packed words and, with act-order, its thread tile) and refuses the kernel otherwise.
// (desc_act against the kernel and checkpoint format is checked without the model, in rules/gptq.ts.)
import { GPTQ_KERNEL_SHAPES, isSkipped, QUANT_DEFAULTS } from '../../../../../native/model';
import { layerPattern } from '../../modelAware/modelView';
import { booleanOf, effective, numberOf, stringOf } from '../values';
import type { ModelRule } from './rule';
import { skipListOf } from './skipList';

const LISTED = 6;

export const kernelShapesRule: ModelRule = {
  id: 'model/kernel-shape',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: "The chosen GPTQ backend's kernel takes every quantized Linear's in/out features (GPTQModel 7.7 kernel validation).",
  check(site, ctx) {
    const backendEntry = effective(site, 'backend');
    const backend = stringOf(backendEntry)?.toLowerCase();
    const shape = backend === undefined ? undefined : GPTQ_KERNEL_SHAPES[backend];
    if (!backendEntry || !backend || !shape) return;
    const d = QUANT_DEFAULTS.gptq;
    const settings = {
      bits: numberOf(effective(site, 'bits')) ?? d.bits,
      groupSize: numberOf(effective(site, 'group_size')) ?? d.group_size,
      descAct: booleanOf(effective(site, 'desc_act')) ?? d.desc_act,
    };
    const skip = skipListOf(site);
    const bad = new Map<string, string>();
    for (const l of ctx.view.linears) {
      if (isSkipped(l.module, skip) || shape.takes(settings, l.in, l.out)) continue;
      bad.set(layerPattern(l.module), `${layerPattern(l.module)} (in ${l.in}, out ${l.out})`);
    }
    if (bad.size === 0) return;
    const names = [...bad.values()];
    const listed = names.slice(0, LISTED).join(', ') + (names.length > LISTED ? `, and ${names.length - LISTED} more` : '');
    ctx.report({
      at: backendEntry,
      message: `backend "${backend}" (GPTQModel 7.7 ${shape.kernel}) needs ${shape.needs(settings)}, which ${listed} in ${ctx.view.model.ref} do not have: GPTQModel refuses the kernel for this model. Use "backend": "auto" to let it pick one that fits.`,
      fixes: [{ kind: 'setValue', key: 'backend', value: 'auto', title: 'Set backend to "auto"' }],
    });
  },
};
