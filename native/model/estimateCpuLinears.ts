// The heap copies our CPU engine keeps for each quantized Linear (the kernel objects of
// native/src/kernels/qmatmul_*.cc, built by the loaders of native/src/runtime/linear_*.cc), found either in a
// checkpoint already stored quantized or in the layout a quantization config would give a floating-point one.
import type { Architecture } from './architecture';
import { quantizedLinearLayout } from './quantizedLayout';
import type { LayoutTensor } from './quantizedLayout';
import type { QuantSettings } from './quantSettings';
import { quantSettingsOf } from './quantSettings';
import type { JsonObject, ResolvedModel, TensorMeta } from './types';
import { isQuantizableLinear, isSkipped, moduleOf } from './weightLayout';

const F32 = 4;

type QuantMethod = Exclude<QuantSettings, { method: 'none' }>['method'];

/** A quantized Linear as the engine loads it: its shape and the tensors it is stored as. */
interface QuantizedLinear {
  method: QuantMethod;
  out: number;
  in: number;
  tensors: LayoutTensor[];
}

const bytesOf = (l: QuantizedLinear, suffix: string): number => l.tensors.find((t) => t.suffix === suffix)?.bytes ?? 0;
const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

interface EngineDetails {
  descAct: boolean;
  awqGemvGroupSize: number | undefined;
}

/** Heap bytes the engine's kernel object keeps for one quantized Linear (kernels/qmatmul_*.cc); repacked: AWQ GEMM's
 *  codes and zero points, copied into GPTQ's layout at load (same size) while their mapped pages are released. */
function factorBytes(l: QuantizedLinear, d: EngineDetails): { factors: number; sortedCodes: number; repacked?: number } {
  switch (l.method) {
    case 'gptq': {
      const groups = bytesOf(l, 'scales') / (2 * l.out);
      return { factors: 2 * F32 * groups * l.out + 4 * l.in, sortedCodes: d.descAct ? bytesOf(l, 'qweight') + 4 * l.in : 0 };
    }
    case 'awq':
      if (d.awqGemvGroupSize !== undefined) return { factors: 2 * F32 * ceilDiv(l.in, d.awqGemvGroupSize) * l.out, sortedCodes: 0 };
      return {
        factors: 2 * F32 * (bytesOf(l, 'scales') / (2 * l.out)) * l.out + 4 * l.in,
        sortedCodes: 0,
        repacked: bytesOf(l, 'qweight') + bytesOf(l, 'qzeros'),
      };
    case 'bnb4': {
      // absmax is fp32 per block, or one uint8 code per block under double quant.
      const doubleQuant = bytesOf(l, 'weight.nested_absmax') > 0;
      const blocks = doubleQuant ? bytesOf(l, 'weight.absmax') : bytesOf(l, 'weight.absmax') / F32;
      return { factors: F32 * blocks, sortedCodes: 0 };
    }
    case 'int8':
      return { factors: F32 * l.out, sortedCodes: 0 };
    case 'compressed-tensors':
      // kernels/qmatmul_ct.cc: scale and scale·zero in fp32 per (row, group); weight_scale is 2 bytes per entry.
      return { factors: (2 * F32 * bytesOf(l, 'weight_scale')) / 2, sortedCodes: 0 };
  }
}

/** The copy a loader makes and frees while validating one layer (formats/bnb.cc UnpackBnb4 / UnpackBnb8). */
function loadCopyBytes(l: QuantizedLinear): number {
  if (l.method === 'bnb4') return bytesOf(l, 'weight') + bytesOf(l, 'weight.absmax') + bytesOf(l, 'weight.nested_absmax');
  if (l.method === 'int8') return bytesOf(l, 'weight') + bytesOf(l, 'SCB');
  return 0;
}

/** [out, in] of a decoder Linear from its role, for checkpoints whose packed tensors hide the shape. */
function roleShape(module: string, a: Architecture): [number, number] | undefined {
  const qWidth = a.heads * a.headDim,
    kvWidth = a.kvHeads * a.headDim;
  const shapes: Record<string, [number, number]> = {
    q_proj: [qWidth, a.hidden],
    k_proj: [kvWidth, a.hidden],
    v_proj: [kvWidth, a.hidden],
    o_proj: [a.hidden, qWidth],
    out_proj: [a.hidden, qWidth],
    gate_proj: [a.intermediate, a.hidden],
    up_proj: [a.intermediate, a.hidden],
    fc1: [a.intermediate, a.hidden],
    down_proj: [a.hidden, a.intermediate],
    fc2: [a.hidden, a.intermediate],
  };
  return shapes[module.split('.').pop() ?? ''];
}

/** The packed format a module's stored tensors are in, from their suffixes. */
function storedMethod(suffixes: ReadonlySet<string>, quantMethod: string | undefined): QuantMethod | undefined {
  if ([...suffixes].some((s) => s.startsWith('weight.quant_state.'))) return 'bnb4';
  if (suffixes.has('SCB')) return 'int8';
  if (suffixes.has('qweight')) return suffixes.has('g_idx') || quantMethod === 'gptq' ? 'gptq' : 'awq';
  return undefined;
}

/** Linears already stored quantized in the checkpoint. */
function storedQuantizedLinears(tensors: readonly TensorMeta[], arch: Architecture, quantMethod: string | undefined): QuantizedLinear[] {
  const byModule = new Map<string, LayoutTensor[]>();
  for (const t of tensors) {
    const module = moduleOf(t.name);
    if (module === t.name) continue;
    const list = byModule.get(module) ?? [];
    list.push({ suffix: t.name.slice(module.length + 1), bytes: t.bytes });
    byModule.set(module, list);
  }
  const linears: QuantizedLinear[] = [];
  for (const [module, list] of byModule) {
    const method = storedMethod(new Set(list.map((t) => t.suffix)), quantMethod);
    const shape = method && roleShape(module, arch);
    if (method && shape) linears.push({ method, out: shape[0], in: shape[1], tensors: list });
  }
  return linears;
}

/** Linears a quantization config would quantize in a floating-point checkpoint, laid out as our writer does. */
function plannedQuantizedLinears(tensors: readonly TensorMeta[], settings: QuantSettings, computeDtype: string): QuantizedLinear[] {
  if (settings.method === 'none') return [];
  return tensors
    .filter((t) => isQuantizableLinear(t) && !isSkipped(moduleOf(t.name), settings.skip))
    .map((t) => {
      const [out, inFeatures] = t.shape as [number, number];
      return { method: settings.method, out, in: inFeatures, tensors: quantizedLinearLayout(settings, out, inFeatures, computeDtype) };
    });
}

function engineDetails(settings: QuantSettings, modelConfig: JsonObject): EngineDetails {
  const own = quantSettingsOf(modelConfig, 'config.json');
  const s = settings.method !== 'none' ? settings : own.ok ? own.value : settings;
  // Static groups keep g_idx in column order even under act-order, so nothing is re-sorted.
  const stored = modelConfig['quantization_config'];
  const staticGroups =
    settings.method === 'none' &&
    typeof stored === 'object' &&
    stored !== null &&
    !Array.isArray(stored) &&
    stored['static_groups'] === true;
  return {
    descAct: s.method === 'gptq' && s.descAct && !staticGroups,
    awqGemvGroupSize: s.method === 'awq' && s.version === 'gemv' ? s.groupSize : undefined,
  };
}

export interface QuantizedLinearCopies {
  /** Quantized Linears the engine builds kernels for. */
  linears: number;
  /** fp32 group factors and column → group tables, all Linears. */
  factorBytes: number;
  /** Act-order GPTQ's column-sorted qweight copies and their orders. */
  sortedCodeBytes: number;
  sortedLinears: number;
  /** AWQ GEMM codes and zero points the kernels keep on the heap instead of the mapping (counted among the weights). */
  repackedCodeBytes: number;
  /** The largest copy a loader makes and frees while validating one layer. */
  largestLoadCopyBytes: number;
}

/** What the engine copies for the model's quantized Linears: stored ones, or those `settings` would quantize. */
export function quantizedLinearCopies(model: ResolvedModel, arch: Architecture, settings: QuantSettings): QuantizedLinearCopies {
  const own = model.config['quantization_config'];
  const quantMethod =
    typeof own === 'object' && own !== null && !Array.isArray(own) ? String(own['quant_method'] ?? '').toLowerCase() : undefined;
  const linears = [
    ...storedQuantizedLinears(model.tensors, arch, quantMethod),
    ...plannedQuantizedLinears(model.tensors, settings, arch.computeDtype),
  ];
  const details = engineDetails(settings, model.config);
  const perLinear = linears.map((l) => factorBytes(l, details));
  return {
    linears: linears.length,
    factorBytes: perLinear.reduce((a, p) => a + p.factors, 0),
    sortedCodeBytes: perLinear.reduce((a, p) => a + p.sortedCodes, 0),
    sortedLinears: perLinear.filter((p) => p.sortedCodes > 0).length,
    repackedCodeBytes: perLinear.reduce((a, p) => a + (p.repacked ?? 0), 0),
    largestLoadCopyBytes: Math.max(0, ...linears.map(loadCopyBytes)),
  };
}
