// Where a quantized checkpoint will be served, and which kernel each target picks for one quantized Linear.
// Each target's rules live in their own file (deployVllm.ts, deployTgi.ts, deployGptqModel.ts,
// deployLlamaCpp.ts, deployQuantStudio.ts), restating its sources at the release named in its `release`;
// the editor's deploy/target-kernel rule and the checkpoint doctor's target list both read them here.
import { GPTQMODEL_TABLE, TRANSFORMERS_TABLE } from './deployGptqModel';
import { LLAMA_CPP_TABLE } from './deployLlamaCpp';
import { QUANTSTUDIO_TABLE } from './deployQuantStudio';
import { TGI_TABLE } from './deployTgi';
import type { DeploySettings, KernelChoice, LinearDims, TargetTable } from './deployTypes';
import { VLLM_TABLE } from './deployVllm';

export type { DeploySettings, KernelChoice, KernelPath, LinearDims, TargetTable, DeployCause } from './deployTypes';

/** The values of the quantstudio.deploymentTargets setting and of a job file's deploymentTargets. */
export const DEPLOYMENT_TARGETS = ['vllm', 'tgi', 'transformers', 'gptqmodel', 'llama.cpp', 'quantstudio'] as const;
export type DeploymentTarget = (typeof DEPLOYMENT_TARGETS)[number];

export const TARGET_TABLES: Readonly<Record<DeploymentTarget, TargetTable>> = {
  vllm: VLLM_TABLE,
  tgi: TGI_TABLE,
  transformers: TRANSFORMERS_TABLE,
  gptqmodel: GPTQMODEL_TABLE,
  'llama.cpp': LLAMA_CPP_TABLE,
  quantstudio: QUANTSTUDIO_TABLE,
};

export function isDeploymentTarget(value: unknown): value is DeploymentTarget {
  return typeof value === 'string' && (DEPLOYMENT_TARGETS as readonly string[]).includes(value);
}

/** The targets named in a list (setting or job field), known ones only, each once, in the list's order. */
export function deploymentTargetsOf(value: unknown): DeploymentTarget[] {
  return Array.isArray(value) ? [...new Set(value.filter(isDeploymentTarget))] : [];
}

/** One Linear name across layers ("model.layers.*.mlp.down_proj"), so a hover lists a layer group once. */
export function layerGroupOf(module: string): string {
  return module.replace(/\.\d+\./g, '.*.');
}

export interface LayerGroupKernel {
  group: string;
  dims: LinearDims;
  choice: KernelChoice;
}

/** The kernel a target picks for each layer group of a model (one row per group and shape); undefined: no rule for the method. */
export function kernelsPerGroup(
  target: DeploymentTarget,
  settings: DeploySettings,
  linears: ReadonlyArray<{ module: string; in: number; out: number }>,
): LayerGroupKernel[] | undefined {
  const table = TARGET_TABLES[target];
  if (!table.choose(settings)) return undefined;
  const rows = new Map<string, LayerGroupKernel>();
  for (const l of linears) {
    const group = layerGroupOf(l.module);
    const key = `${group} ${l.in}x${l.out}`;
    if (!rows.has(key)) rows.set(key, { group, dims: { in: l.in, out: l.out }, choice: table.choose(settings, l)! });
  }
  return [...rows.values()];
}
