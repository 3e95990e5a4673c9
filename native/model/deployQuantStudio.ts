// QuantStudio's own engine: the checkpoint layouts it loads (checkpointLayouts.ts, the twin of the engine's
// native/src/formats/layouts table), with their code widths and feature multiples.
import { checkpointLayout } from './checkpointLayouts';
import type { LayoutName } from './checkpointLayouts';
import type { DeploySettings, KernelChoice, LinearDims, TargetTable } from './deployTypes';
import { fast, refused } from './deployTypes';

function layoutOf(s: DeploySettings): LayoutName {
  if (s.method === 'gptq') return 'gptq';
  if (s.method === 'awq') return s.format === 'gemv' ? 'awq-gemv' : 'awq-gemm';
  return s.format === 'int8' ? 'bnb8' : 'bnb4';
}

function choose(s: DeploySettings, d?: LinearDims): KernelChoice {
  const row = checkpointLayout(layoutOf(s));
  if (!row.bits.includes(s.bits)) return refused(`layout ${row.name} holds ${row.bits.join('/')}-bit codes, not ${s.bits}`, 'bits');
  const m = row.featureMultiple;
  if (d && m > 0 && (d.in % m !== 0 || d.out % m !== 0)) return refused(`layout ${row.name} needs in and out features % ${m}`, 'shape');
  return fast(`${row.name} (${row.packing})`);
}

export const QUANTSTUDIO_TABLE: TargetTable = { release: 'QuantStudio engine', choose };
