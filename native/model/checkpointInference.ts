// What the tensors of a quantized checkpoint say about how it was quantized, read from shapes and from the
// small tensors that decide the rest (g_idx: act-order; qzeros: symmetric; the bitsandbytes quant state),
// per module, then summarised. Shapes are the layouts of checkpointLayouts.ts / quantizedLayout.ts.
import type { LayoutName } from './checkpointLayouts';
import { int32s, readTensorBytes } from './tensorData';
import type { TensorMeta } from './types';
import { FLOAT_DTYPES } from './dtypes';
import { isQuantizableLinear, moduleOf } from './weightLayout';

export interface ModuleInference {
  module: string;
  layout: LayoutName;
  inFeatures: number;
  outFeatures: number;
  bits: number;
  /** Groups along in_features (1 for per-channel), undefined where the layout pads them (AWQ GEMV). */
  groups?: number;
  /** GPTQ: g_idx is not the trivial i // group_size. */
  actOrder?: boolean;
  /** GPTQ: the convention whose symmetric midpoint every stored zero point is ('none': asymmetric). */
  midZeros?: GptqZeroConvention | 'none';
  /** compressed-tensors: asymmetric, its zero points packed in weight_zero_point. */
  packedZeros?: boolean;
  quantType?: 'nf4' | 'fp4';
  blocksize?: number;
  doubleQuant?: boolean;
}

export interface CheckpointInference {
  layout: LayoutName | undefined;
  modules: ModuleInference[];
  /** 2-D float `.weight` tensors: Linears, embeddings and lm_head left unquantized. */
  unquantized: string[];
  /** Of those, the Linears inside decoder layers: a loader quantizes them unless the skip list names them. */
  keptLinears: string[];
  /** Modules whose tensors fit no layout, with why. */
  unreadable: { module: string; why: string }[];
}

export type GptqZeroConvention = 'gptq' | 'gptq_v2';

/** The symmetric zero point as stored: GPTQ v1 (checkpoint_format "gptq") stores zero − 1, "gptq_v2" the zero itself. */
export function gptqStoredMidpoint(bits: number, convention: GptqZeroConvention): number {
  return 2 ** (bits - 1) - (convention === 'gptq' ? 1 : 0);
}

/** The group size that `groups` groups over `inFeatures` come from: -1 for one group. */
export function groupSizeOf(inFeatures: number, groups: number): number {
  return groups <= 1 ? -1 : Math.ceil(inFeatures / groups);
}

/** Whether a configured group size gives `groups` groups over `inFeatures` (-1 and any size ≥ in give one). */
export function groupSizeFits(groupSize: number, inFeatures: number, groups: number): boolean {
  return groupSize === -1 || groupSize <= 0 ? groups === 1 : Math.ceil(inFeatures / groupSize) === groups;
}

/** Mixture-of-Experts routers: Linears inside decoder layers that GPTQModel and transformers keep in float. */
const ROUTER = /\.(gate|router|shared_expert_gate)$/;
/** Routed experts: transformers 5.23 fuses them into 3-D parameters on load, which no quantizer replaces by name. */
const ROUTED_EXPERT = /\.experts\.\d+\./;

function unpack(words: Int32Array, bits: number): number[] {
  const values: number[] = [];
  const mask = (1 << bits) - 1;
  // GPTQ packs values little-end first as one bit stream over the 32-bit words (3-bit values straddle words).
  const total = Math.floor((words.length * 32) / bits);
  for (let v = 0; v < total; v++) {
    const bit = v * bits;
    const word = bit >> 5;
    const shift = bit & 31;
    let value = (words[word]! >>> shift) & mask;
    if (shift + bits > 32) value |= (words[word + 1]! << (32 - shift)) & mask;
    values.push(value);
  }
  return values;
}

async function gptqModule(folder: string, module: string, get: (s: string) => TensorMeta | undefined): Promise<ModuleInference | string> {
  const [qweight, scales, gIdx, qzeros] = ['qweight', 'scales', 'g_idx', 'qzeros'].map(get);
  if (!qweight || !scales || !gIdx || !qzeros || qweight.shape.length !== 2 || scales.shape.length !== 2)
    return 'GPTQ module lacks qweight, scales, qzeros or g_idx of the usual rank';
  const inFeatures = gIdx.shape[0]!;
  const [groups, out] = scales.shape as [number, number];
  const bits = (qweight.shape[0]! * 32) / inFeatures;
  if (!Number.isInteger(bits) || qweight.shape[1] !== out)
    return `qweight [${qweight.shape.join(', ')}] is no GPTQ packing of in_features ${inFeatures} × out ${out}`;
  const g = int32s(await readTensorBytes(folder, gIdx));
  const groupSize = groupSizeOf(inFeatures, groups);
  const step = groupSize === -1 ? inFeatures : groupSize;
  let actOrder = false;
  for (let i = 0; i < g.length && !actOrder; i++) actOrder = g[i] !== Math.floor(i / step);
  const zeros = unpack(int32s(await readTensorBytes(folder, qzeros)), bits).slice(0, groups * out);
  const midZeros = (['gptq', 'gptq_v2'] as const).find((c) => zeros.every((z) => z === gptqStoredMidpoint(bits, c))) ?? 'none';
  return { module, layout: 'gptq', inFeatures, outFeatures: out, bits, groups, actOrder, midZeros };
}

function awqModule(module: string, get: (s: string) => TensorMeta | undefined): ModuleInference | string {
  const [qweight, scales, qzeros] = ['qweight', 'scales', 'qzeros'].map(get);
  if (!qweight || !scales || !qzeros || qweight.shape.length !== 2 || scales.shape.length !== 2 || qzeros.shape.length !== 2)
    return 'AWQ module lacks qweight, scales or qzeros of rank 2';
  // GEMM: qweight [in, out/8], qzeros [groups, out/8], scales [groups, out]. GEMV: qweight [out, in/8], qzeros [out, W], scales [out, 8W].
  if (scales.shape[1] === qweight.shape[1]! * 8 && qzeros.shape[1] === qweight.shape[1]) {
    return { module, layout: 'awq-gemm', inFeatures: qweight.shape[0]!, outFeatures: scales.shape[1]!, bits: 4, groups: scales.shape[0]! };
  }
  if (scales.shape[0] === qweight.shape[0] && qzeros.shape[0] === qweight.shape[0]) {
    return { module, layout: 'awq-gemv', inFeatures: qweight.shape[1]! * 8, outFeatures: qweight.shape[0]!, bits: 4 };
  }
  return `qweight [${qweight.shape.join(', ')}], scales [${scales.shape.join(', ')}] fit neither AWQ GEMM nor GEMV`;
}

async function bnb4Module(
  folder: string,
  module: string,
  state: TensorMeta,
  get: (s: string) => TensorMeta | undefined,
): Promise<ModuleInference | string> {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(Buffer.from(await readTensorBytes(folder, state, 1 << 20)).toString('utf8')) as Record<string, unknown>;
  } catch {
    return `${state.name} is not the JSON quant state bitsandbytes writes`;
  }
  const shape = Array.isArray(parsed.shape) ? (parsed.shape as number[]) : [];
  const quantType = state.name.endsWith('nf4') ? 'nf4' : 'fp4';
  return {
    module,
    layout: 'bnb4',
    inFeatures: shape[1] ?? 0,
    outFeatures: shape[0] ?? 0,
    bits: 4,
    quantType,
    blocksize: typeof parsed.blocksize === 'number' ? parsed.blocksize : undefined,
    doubleQuant: get('weight.nested_absmax') !== undefined,
  };
}

/** compressed-tensors pack-quantized: weight_packed [out, ⌈in·bits/32⌉], weight_scale [out, groups], weight_shape [out, in]. */
async function ctModule(folder: string, module: string, get: (s: string) => TensorMeta | undefined): Promise<ModuleInference | string> {
  const [packed, scale, shape] = ['weight_packed', 'weight_scale', 'weight_shape'].map(get);
  if (!packed || !scale || !shape || packed.shape.length !== 2 || scale.shape.length !== 2 || shape.dtype !== 'I64' || shape.shape[0] !== 2)
    return 'pack-quantized module lacks weight_packed, weight_scale (rank 2) or weight_shape (I64 [2])';
  const bytes = await readTensorBytes(folder, shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [out, inFeatures] = [Number(view.getBigInt64(0, true)), Number(view.getBigInt64(8, true))];
  const bits = [4, 8].find((b) => Math.ceil((inFeatures * b) / 32) === packed.shape[1]);
  if (!bits || packed.shape[0] !== out || scale.shape[0] !== out)
    return `weight_packed [${packed.shape.join(', ')}] is no 4- or 8-bit packing of weight_shape [${out}, ${inFeatures}]`;
  const packedZeros = get('weight_zero_point') !== undefined;
  return { module, layout: 'ct-pack-quantized', inFeatures, outFeatures: out, bits, groups: scale.shape[1]!, packedZeros };
}

/** Reads the checkpoint in `folder` whose headers are `tensors`. */
export async function inferCheckpoint(folder: string, tensors: readonly TensorMeta[]): Promise<CheckpointInference> {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const modules = new Map<string, TensorMeta[]>();
  for (const t of tensors) {
    const m = moduleOf(t.name);
    modules.set(m, [...(modules.get(m) ?? []), t]);
  }
  const result: CheckpointInference = { layout: undefined, modules: [], unquantized: [], keptLinears: [], unreadable: [] };
  for (const [module, own] of modules) {
    const get = (suffix: string): TensorMeta | undefined => byName.get(`${module}.${suffix}`);
    const state = own.find((t) => /\.weight\.quant_state\.bitsandbytes__(nf4|fp4)$/.test(t.name));
    let found: ModuleInference | string | undefined;
    if (get('qweight')) found = get('g_idx') ? await gptqModule(folder, module, get) : awqModule(module, get);
    else if (get('weight_packed')) found = await ctModule(folder, module, get);
    else if (state) found = await bnb4Module(folder, module, state, get);
    else if (get('SCB') && get('weight')?.dtype === 'I8') {
      const w = get('weight')!;
      found = { module, layout: 'bnb8', inFeatures: w.shape[1] ?? 0, outFeatures: w.shape[0] ?? 0, bits: 8 };
    } else if (own.some((t) => t.name === `${module}.weight` && t.shape.length === 2 && FLOAT_DTYPES.has(t.dtype))) {
      result.unquantized.push(module);
      if (own.some(isQuantizableLinear) && !ROUTER.test(module) && !ROUTED_EXPERT.test(`${module}.`)) result.keptLinears.push(module);
    }
    if (typeof found === 'string') result.unreadable.push({ module, why: found });
    else if (found) result.modules.push(found);
  }
  const counts = new Map<LayoutName, number>();
  for (const m of result.modules) counts.set(m.layout, (counts.get(m.layout) ?? 0) + 1);
  result.layout = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return result;
}
