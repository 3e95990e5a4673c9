// Which deployment targets load a checkpoint the doctor examined, and with which kernel: the same tables the
// editor's deploy/target-kernel rule reads (deployTargets.ts), fed with the settings the tensors imply and each
// quantized module's real shape. A config that disagrees with the tensors fails every loader that reads it.
import type { CheckpointInference } from './checkpointInference';
import { checkpointLayout } from './checkpointLayouts';
import { DEPLOYMENT_TARGETS, TARGET_TABLES } from './deployTargets';
import type { DeploymentTarget } from './deployTargets';
import { deploySettingsOf } from './deploySettings';
import type { KernelChoice } from './deployTypes';
import type { Expected } from './doctorRules';
import type { JsonObject } from './types';

export interface TargetVerdict {
  /** The deployment target (a quantstudio.deploymentTargets value) and the release its table follows. */
  target: DeploymentTarget;
  release: string;
  /** undefined: QuantStudio has no rule for this loader and this method. */
  loads: boolean | undefined;
  detail: string;
}

interface Finding {
  code: string;
  severity: string;
}

/** "MarlinLinear for 154 modules; TorchLinear for 2 (why)", the kernels in the order first met. */
function kernelSummary(choices: readonly KernelChoice[]): string {
  const byKernel = new Map<string, { count: number; why: string }>();
  for (const c of choices) {
    const row = byKernel.get(c.kernel) ?? { count: 0, why: c.why };
    row.count++;
    byKernel.set(c.kernel, row);
  }
  return [...byKernel]
    .map(([kernel, { count, why }]) => `${kernel} for ${count} module${count === 1 ? '' : 's'}${why ? ` (${why})` : ''}`)
    .join('; ');
}

export function verdictsOf(
  inference: CheckpointInference,
  expected: Expected | undefined,
  findings: readonly Finding[],
  checkpointFormat: string | undefined,
): TargetVerdict[] {
  if (!expected) return [];
  const configErrors = findings.filter((f) => f.severity === 'error' && !f.code.startsWith('data/'));
  const badConfig = configErrors.length > 0 ? `not with these configs (${configErrors[0]!.code}); ` : '';
  const format = expected.values.checkpoint_format ?? checkpointFormat;
  const settings = deploySettingsOf({ ...expected.values, ...(format === undefined ? {} : { checkpoint_format: format }) } as JsonObject);
  const mods = inference.modules.filter((m) => m.layout === expected.layout);
  // AWQ on a Mixture-of-Experts model, one quantized Linear per expert (GPTQModel 7.7's MoE module trees): transformers
  // 5.23 holds routed experts as 3-D parameters, so it leaves those tensors unexpected and the experts random.
  const expert = expected.layout.startsWith('awq') ? mods.find((m) => /\.experts\.\d+\./.test(m.module)) : undefined;
  const packedZeros = mods.find((m) => m.packedZeros);
  return DEPLOYMENT_TARGETS.map((target) => {
    const table = TARGET_TABLES[target];
    if (expert && target === 'transformers') {
      const detail = `fails: ${expert.module} is one quantized Linear per expert; its MoE classes keep routed experts 3-D (random after loading)`;
      return { target, release: table.release, loads: false, detail };
    }
    if (packedZeros && target === 'transformers') {
      // Measured with test/fixtures/upstream-written/llmcompressor-w4a16-asym: transformers 5.23 with compressed-tensors
      // 0.19 builds weight_zero_point as [out, groups] and refuses the packed one as a size mismatch.
      const detail = `fails: ${packedZeros.module}.weight_zero_point is packed (asymmetric pack-quantized); with compressed-tensors 0.19 it expects [out, groups] unpacked`;
      return { target, release: table.release, loads: false, detail };
    }
    if (expert && target === 'gptqmodel') {
      const detail = `${badConfig}its MoE module trees load every expert (AwqTorchLinear on CPU)`;
      return { target, release: table.release, loads: configErrors.length === 0, detail };
    }
    if ((!settings || !table.choose(settings)) && target === 'quantstudio') {
      // a layout the engine only loads (compressed-tensors): its row says which code widths it reads
      const row = checkpointLayout(expected.layout);
      const bits = mods[0]?.bits ?? 0;
      const takes = row.bits.includes(bits);
      const detail = `${badConfig}layout ${row.name} (${row.packing}), ${bits}-bit${takes ? '' : ` not among its ${row.bits.join('/')}`}`;
      return { target, release: table.release, loads: takes && configErrors.length === 0, detail };
    }
    if (!settings || !table.choose(settings)) {
      const loads = target === 'transformers' && configErrors.length === 0 ? true : undefined;
      const detail = loads
        ? `loads as quant_method ${expected.values.quant_method}`
        : `no rule in QuantStudio for ${expected.layout} on this target`;
      return { target, release: table.release, loads, detail };
    }
    const choices = mods.map((m) => table.choose(settings, { in: m.inFeatures, out: m.outFeatures })!);
    const refusal = choices.find((c) => c.path === 'refused');
    const loads = configErrors.length === 0 && refusal === undefined;
    const which = refusal ? `refuses: ${refusal.why}` : kernelSummary(choices);
    return { target, release: table.release, loads, detail: `${badConfig}${which}` };
  });
}
