// Which tensors a method quantizes, and what every tensor of the model costs under that method.
// Quantized: every 2-D floating `.weight` inside a decoder layer (the Linears: q/k/v/o, gate/up/down,
// OPT's q/k/v/out_proj and fc1/fc2, every MoE expert's) but MoE routers. Kept as stored: embeddings, lm_head, norms, biases, and modules
// named by modules_to_not_convert / llm_int8_skip_modules or skipped by GPTQModel's `dynamic` ("-:"), whose positive rules
// also give a module its own bits, group size and act-order (gptqDynamic.ts).
import { FLOAT_DTYPES } from './dtypes';
import { dynamicRuleFor } from './gptqDynamic';
import { gptqModuleSettings } from './quantSettings';
import type { QuantSettings } from './quantSettings';
import { quantizedLinearLayout } from './quantizedLayout';
import type { TensorMeta } from './types';

const DECODER_LAYER = /(^|\.)(layers|h|blocks)\.\d+\./;
// compressed-tensors (pack-quantized) stores a Linear as weight_packed, weight_scale, weight_shape and weight_zero_point.
const PARAM_SUFFIX =
  /\.(weight|bias|qweight|qzeros|scales|g_idx|SCB|weight_format|weight_packed|weight_scale|weight_shape|weight_zero_point)(\..*)?$/;

export interface WeightLine {
  label: string;
  bytes: number;
  /** Modules (for Linears) or tensors (for everything else) the line covers. */
  count: number;
}

/** `model.layers.3.self_attn.q_proj.weight` → `model.layers.3.self_attn.q_proj`. */
export function moduleOf(tensorName: string): string {
  return tensorName.replace(PARAM_SUFFIX, '');
}

/** Same matching transformers uses for skip lists: the module itself, or a dotted prefix/suffix of its name. */
export function isSkipped(module: string, skip: readonly string[]): boolean {
  return skip.some((s) => module === s || module.endsWith(`.${s}`) || module.startsWith(`${s}.`) || module.includes(`.${s}.`));
}

// MoE routers: Mixtral's block_sparse_moe.gate, Qwen2/3-MoE's mlp.gate and Qwen2-MoE's mlp.shared_expert_gate. GPTQModel 7.7
// marks them "!" (never quantized) in its Mixtral / Qwen2-MoE / Qwen3-MoE module trees, and transformers 5.23 holds the
// top-k routers as plain parameters (MixtralTopKRouter, Qwen2MoeTopKRouter), not Linears a quantizer converts.
const ROUTER = /\.(mlp|block_sparse_moe)\.(gate|shared_expert_gate)\.weight$/;
// A routed expert's linear (…mlp.experts.3.down_proj, …block_sparse_moe.experts.3.w2) and the shared expert's.
const EXPERT = /\.experts\.\d+\.([^.]+)$/;
const SHARED_EXPERT = /\.shared_expert\.([^.]+)$/;

export function isRouter(tensorName: string): boolean {
  return ROUTER.test(tensorName);
}

export function isQuantizableLinear(t: TensorMeta): boolean {
  return t.name.endsWith('.weight') && t.shape.length === 2 && FLOAT_DTYPES.has(t.dtype) && DECODER_LAYER.test(t.name) && !isRouter(t.name);
}

// transformers 5.23 with bitsandbytes 0.50 converts nn.Linear modules only: the routed experts (3-D parameters of
// MixtralExperts / Qwen2MoeExperts) stay as stored, and Qwen2-MoE's shared_expert_gate (a Linear) is quantized
// (native/src/pipeline/working_layer.cc DescribeMoe writes the same).
// GPTQModel 7.7's Qwen2-MoE / Qwen3-MoE trees hold no dense MLP, so a MoE model's dense layers (mlp_only_layers) keep it.
const DENSE_MLP = /\.layers\.\d+\.mlp\.(gate_proj|up_proj|down_proj)\.weight$/;

/** Whether a model has routed experts (the rule below treats its linears by method). */
export function isMoeModel(tensors: readonly TensorMeta[]): boolean {
  return tensors.some((t) => EXPERT.test(moduleOf(t.name)));
}

/** Whether `method` quantizes this tensor (before the config's skip list): the linears it converts. */
export function quantizedBy(t: TensorMeta, method: QuantSettings['method'], moeModel: boolean): boolean {
  if (method === 'none') return false;
  if (method !== 'bnb4' && method !== 'int8') return isQuantizableLinear(t) && !(moeModel && DENSE_MLP.test(t.name));
  if (EXPERT.test(moduleOf(t.name))) return false;
  return isQuantizableLinear(t) || (/\.shared_expert_gate\.weight$/.test(t.name) && FLOAT_DTYPES.has(t.dtype));
}

/** A quantized linear's breakdown label: its own name, experts' linears together per name ("experts.down_proj"). */
function linearLabel(module: string): string {
  const expert = EXPERT.exec(module);
  if (expert) return `experts.${expert[1]}`;
  const shared = SHARED_EXPERT.exec(module);
  if (shared) return `shared_expert.${shared[1]}`;
  return module.split('.').pop() ?? module;
}

/** A breakdown label for a tensor kept as stored. */
function storedLabel(t: TensorMeta): string {
  if (DECODER_LAYER.test(t.name)) {
    if (isRouter(t.name)) return 'routers';
    if (/norm/.test(t.name)) return 'norms';
    if (t.name.endsWith('.bias')) return 'biases';
    return linearLabel(moduleOf(t.name));
  }
  if (/embed|wte|wpe/.test(t.name)) return 'embeddings';
  if (/lm_head/.test(t.name)) return 'lm_head';
  if (/norm/.test(t.name)) return 'norms';
  return 'other';
}

export interface WeightLayout {
  lines: WeightLine[];
  totalBytes: number;
  /** Elements of the largest quantized Linear (sizes a dequantization buffer). */
  largestQuantizedNumel: number;
  /** Weights of the quantized Linears and the bytes they are stored in (qweight, scales, zeros, g_idx, …). */
  quantizedNumel: number;
  quantizedBytes: number;
}

type Quantizing = Exclude<QuantSettings, { method: 'none' }>;

/** The settings a module is quantized with, or undefined when it stays as stored (skip lists, GPTQModel's "-:" rules). */
function moduleSettings(settings: Quantizing, module: string): Quantizing | undefined {
  if (isSkipped(module, settings.skip)) return undefined;
  if (settings.method !== 'gptq' || !settings.dynamic) return settings;
  return gptqModuleSettings(settings, dynamicRuleFor(settings.dynamic, module));
}

export function weightLayout(tensors: readonly TensorMeta[], settings: QuantSettings, computeDtype: string): WeightLayout {
  const lines = new Map<string, WeightLine>();
  const modulesPerLine = new Map<string, Set<string>>();
  let largestQuantizedNumel = 0;
  let quantizedNumel = 0;
  let quantizedBytes = 0;
  const add = (label: string, bytes: number, unit: string): void => {
    const line = lines.get(label) ?? { label, bytes: 0, count: 0 };
    line.bytes += bytes;
    const units = modulesPerLine.get(label) ?? new Set<string>();
    units.add(unit);
    modulesPerLine.set(label, units);
    line.count = units.size;
    lines.set(label, line);
  };
  const moeModel = isMoeModel(tensors);
  for (const t of tensors) {
    const module = moduleOf(t.name);
    const own = settings.method !== 'none' && quantizedBy(t, settings.method, moeModel) ? moduleSettings(settings, module) : undefined;
    if (own) {
      const [out, inFeatures] = t.shape as [number, number];
      const bytes = quantizedLinearLayout(own, out, inFeatures, computeDtype).reduce((a, p) => a + p.bytes, 0);
      largestQuantizedNumel = Math.max(largestQuantizedNumel, out * inFeatures);
      quantizedNumel += out * inFeatures;
      quantizedBytes += bytes;
      add(linearLabel(module), bytes, module);
    } else {
      const label = storedLabel(t);
      const isLinear = !['embeddings', 'lm_head', 'norms', 'biases', 'other', 'routers'].includes(label);
      add(label, t.bytes, isLinear ? module : t.name);
    }
  }
  const sorted = [...lines.values()].sort((a, b) => b.bytes - a.bytes || a.label.localeCompare(b.label));
  return { lines: sorted, totalBytes: sorted.reduce((a, l) => a + l.bytes, 0), largestQuantizedNumel, quantizedNumel, quantizedBytes };
}

/** Stored bits per weight of the quantized Linears; none when nothing is quantized. */
export function bitsPerWeightOf(weights: WeightLayout): { bitsPerWeight?: number } {
  return weights.quantizedNumel > 0 ? { bitsPerWeight: (8 * weights.quantizedBytes) / weights.quantizedNumel } : {};
}
