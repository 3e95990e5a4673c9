// The memory estimate: weights (per method, from the real tensor shapes) + KV cache + activations of a
// prefill + runtime overhead, each a line of the breakdown.
//
// Model of a prefill of `batch` × `seq` tokens (transformers semantics, checked against torch
// max_memory_allocated on an H100 — see test/unit/native/estimate-reference.test.ts):
//  - KV cache: 2 (K and V) × kv_heads × head_dim × batch × bytes(compute dtype) × the positions each layer keeps:
//    seq, or at most window − 1 on a sliding-window layer (Gemma's local layers, Mistral, Phi-3).
//  - Activations: the largest set of transient buffers alive at once, which is the larger of
//      attention: residual + normed hidden + q + k + v + attention output (all batch×seq×width);
//                 sdpa fuses the score matrix away, eager materialises scores (compute dtype), their
//                 fp32 softmax and its cast back: batch×heads×seq×seq × (2·bytes + 4), plus k and v
//                 repeated to all heads (GQA);
//      MLP:       residual + normed hidden + gate activation, up projection and their product
//                 (3 × batch×seq×intermediate);
//      lm_head:   normed hidden + logits for every position, batch×seq×vocab in the compute dtype
//                 (transformers 5 no longer upcasts logits to fp32 in the forward);
//    plus, for GPTQ/AWQ/NF4/FP4, a dequantization buffer of the largest quantized Linear in the
//    compute dtype (prefill kernels dequantize a weight before a dense matmul).
//  - Overhead: the GEMM library workspace the framework allocates on first use (cuBLAS: 32 MiB on
//    Hopper), which counts in the allocator's peak.
import { architectureOf } from './architecture';
import type { Architecture } from './architecture';
import type { Result } from './errors';
import { fail, ok } from './errors';
import type { QuantSettings } from './quantSettings';
import { describeSettings, quantSettingsOf } from './quantSettings';
import type { JsonObject, ResolvedModel } from './types';
import { bitsPerWeightOf, weightLayout } from './weightLayout';
import type { WeightLine } from './weightLayout';

export const DEFAULT_OVERHEAD_BYTES = 32 * 1024 * 1024;

export interface EstimateOptions {
  batch: number;
  seq: number;
  /** 'sdpa' (default, transformers' default) or 'eager' attention. */
  attention?: 'sdpa' | 'eager';
  /** Overrides config.json's dtype for activations and the KV cache. */
  computeDtype?: string;
  overheadBytes?: number;
}

export type BreakdownLine = WeightLine;

export interface MemoryEstimate {
  /** "GPTQ 4-bit g128", "as stored", … */
  method: string;
  weightsBytes: number;
  kvCacheBytes: number;
  activationBytes: number;
  overheadBytes: number;
  peakBytes: number;
  /** Stored bits per weight of the quantized Linears (codes, scales, zeros, g_idx); absent when nothing is quantized. */
  bitsPerWeight?: number;
  /** CPU engine: the part of the peak that is mapped model files (page cache the system can drop). */
  mappedBytes?: number;
  /** Weight lines per module type, then KV cache, activations and overhead. */
  breakdown: BreakdownLine[];
}

/** A sliding layer keeps only its last window − 1 positions (transformers 5.23 DynamicSlidingWindowLayer). */
export function kvCacheBytes(arch: Architecture, batch: number, seq: number): number {
  const positions = arch.layerWindows.reduce((a, w) => a + (w > 0 ? Math.min(seq, w - 1) : seq), 0);
  return 2 * positions * arch.kvHeads * arch.headDim * batch * arch.computeBytes;
}

export function activationBytes(arch: Architecture, batch: number, seq: number, attention: 'sdpa' | 'eager'): number {
  const tokens = batch * seq;
  const b = arch.computeBytes;
  const hidden = tokens * arch.hidden * b;
  const qWidth = arch.heads * arch.headDim;
  const kvWidth = arch.kvHeads * arch.headDim;
  let attentionStage = 2 * hidden + tokens * (qWidth + 2 * kvWidth) * b + tokens * qWidth * b;
  if (attention === 'eager') {
    attentionStage += batch * arch.heads * seq * seq * (2 * b + 4) + 2 * tokens * qWidth * b;
  }
  const mlpStage = 2 * hidden + 3 * tokens * arch.intermediate * b;
  const lmHeadStage = hidden + tokens * arch.vocab * b;
  return Math.max(attentionStage, mlpStage, lmHeadStage);
}

const DEQUANTIZING_METHODS: ReadonlySet<QuantSettings['method']> = new Set(['gptq', 'awq', 'bnb4']);

export function estimateWithSettings(model: ResolvedModel, settings: QuantSettings, options: EstimateOptions): Result<MemoryEstimate> {
  if (!(Number.isInteger(options.batch) && options.batch > 0 && Number.isInteger(options.seq) && options.seq > 0)) {
    return fail(
      'invalid',
      `batch ${options.batch} and seq ${options.seq} must be positive integers`,
      'estimate options',
      'pass a batch size and a sequence length of at least 1',
    );
  }
  const archResult = architectureOf(model.config, `${model.ref}/config.json`, options.computeDtype);
  if (!archResult.ok) return archResult;
  const arch = archResult.value;
  const weights = weightLayout(model.tensors, settings, arch.computeDtype);
  const kv = kvCacheBytes(arch, options.batch, options.seq);
  const dequantBuffer = DEQUANTIZING_METHODS.has(settings.method) ? weights.largestQuantizedNumel * arch.computeBytes : 0;
  const activations = activationBytes(arch, options.batch, options.seq, options.attention ?? 'sdpa') + dequantBuffer;
  const overhead = options.overheadBytes ?? DEFAULT_OVERHEAD_BYTES;
  const tokens = options.batch * options.seq;
  return ok({
    method: describeSettings(settings),
    weightsBytes: weights.totalBytes,
    kvCacheBytes: kv,
    activationBytes: activations,
    overheadBytes: overhead,
    peakBytes: weights.totalBytes + kv + activations + overhead,
    ...bitsPerWeightOf(weights),
    breakdown: [
      ...weights.lines,
      { label: 'KV cache', bytes: kv, count: tokens },
      { label: 'activations (prefill)', bytes: activations, count: tokens },
      { label: 'runtime overhead', bytes: overhead, count: 1 },
    ],
  });
}

/**
 * The estimate for a model under a quantization config as users write it (a quantization_config object,
 * quantize_config.json, quant_config.json or job file); no config → the weights as stored.
 */
export function estimateMemory(model: ResolvedModel, config: JsonObject | undefined, options: EstimateOptions): Result<MemoryEstimate> {
  if (config === undefined) return estimateWithSettings(model, { method: 'none' }, options);
  const settings = quantSettingsOf(config, 'quantization config');
  return settings.ok ? estimateWithSettings(model, settings.value, options) : settings;
}

/** The methods compared side by side, as their configs would say it. */
export const COMPARED_METHODS: ReadonlyArray<{ label: string; settings: QuantSettings }> = [
  { label: 'fp16 (as stored)', settings: { method: 'none' } },
  { label: 'GPTQ 4-bit g128', settings: { method: 'gptq', bits: 4, groupSize: 128, descAct: false, skip: ['lm_head'] } },
  { label: 'GPTQ 3-bit g128', settings: { method: 'gptq', bits: 3, groupSize: 128, descAct: false, skip: ['lm_head'] } },
  { label: 'AWQ 4-bit g128', settings: { method: 'awq', bits: 4, groupSize: 128, version: 'gemm', skip: ['lm_head'] } },
  { label: 'NF4', settings: { method: 'bnb4', quantType: 'nf4', doubleQuant: false, skip: ['lm_head'] } },
  { label: 'int8', settings: { method: 'int8', skip: ['lm_head'] } },
];

export function compareMethods(model: ResolvedModel, options: EstimateOptions): Result<Array<{ label: string; estimate: MemoryEstimate }>> {
  const rows: Array<{ label: string; estimate: MemoryEstimate }> = [];
  for (const { label, settings } of COMPARED_METHODS) {
    const estimate = estimateWithSettings(model, settings, options);
    if (!estimate.ok) return estimate;
    rows.push({ label, estimate: estimate.value });
  }
  return ok(rows);
}
