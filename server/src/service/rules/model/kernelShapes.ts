// The GPTQ kernel a config picks with `backend` must take every quantized Linear's shape: GPTQModel 7.7
// validates in_features / out_features against each kernel's tile sizes and refuses the kernel otherwise.
// (desc_act against the kernel and checkpoint format is checked without the model, in rules/gptq.ts.)
import { GPTQ_KERNEL_SHAPES, isSkipped, kernelTakes } from '../../../../../native/model';
import { layerPattern } from '../../modelAware/modelView';
import { effective, stringOf } from '../values';
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
    const skip = skipListOf(site);
    const bad = new Map<string, string>();
    for (const l of ctx.view.linears) {
      if (isSkipped(l.module, skip) || kernelTakes(shape, l.in, l.out)) continue;
      bad.set(layerPattern(l.module), `${layerPattern(l.module)} (in ${l.in}, out ${l.out})`);
    }
    if (bad.size === 0) return;
    const names = [...bad.values()];
    const listed = names.slice(0, LISTED).join(', ') + (names.length > LISTED ? `, and ${names.length - LISTED} more` : '');
    const rule = [shape.inBy > 1 ? `in_features divisible by ${shape.inBy}` : '', `out_features divisible by ${shape.outBy}`]
      .filter(Boolean)
      .join(' and ');
    ctx.report({
      at: backendEntry,
      message: `backend "${backend}" (GPTQModel 7.7 ${shape.kernel}) needs ${rule}, which ${listed} in ${ctx.view.model.ref} do not have: GPTQModel refuses the kernel for this model. Use "backend": "auto" to let it pick one that fits.`,
      fixes: [{ kind: 'setValue', key: 'backend', value: 'auto', title: 'Set backend to "auto"' }],
    });
  },
};
