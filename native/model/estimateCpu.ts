// The memory estimate for our own CPU engine's job worker (peak RSS), as opposed to estimate.ts's GPU /
// transformers figure. What the engine keeps (native/src/runtime, native/src/kernels):
//  - Weights stay in the mapped safetensors files in their stored dtype (fp16, or the packed quantized
//    tensors), so their pages count in RSS once read. Every Linear is read by a forward pass; an embedding
//    only where a token's row is read, and the kernel maps a whole page-cache folio around it (a tied
//    lm_head reads all of it).
//  - Copies on the heap: norm weights and biases widened to fp32; per quantized Linear the fp32 group
//    factors the fused kernels use (GPTQ/AWQ: scale and scale·zero per group and output, plus a column →
//    group table; act-order GPTQ also a column-sorted copy of qweight; AWQ GEMM its codes and zero points
//    repacked into GPTQ's layout, their mapped pages released, so they count once but are not pageable;
//    bitsandbytes 4-bit: one fp32 absmax per block; int8: one fp32 scale per row).
//  - While loading, the bitsandbytes loaders copy one layer's codes to validate them, then free the copy.
//  - fp32 activations of the largest forward (the batched prompt), the KV cache [layer][kv head][prompt +
//    new tokens][head dim] per sequence, logits [rows × vocab].
//  - Per engine thread: kernel panels (16 rows of the widest input, dense and dequantized), attention
//    scratch, a stack and an allocator arena; plus the process itself and its tokenizer (cpuEngineConstants.ts).
import { architectureOf } from './architecture';
import type { Architecture } from './architecture';
import { CPU_ENGINE_CONSTANTS } from './cpuEngineConstants';
import type { CpuEngineConstants } from './cpuEngineConstants';
import type { Result } from './errors';
import { fail, ok } from './errors';
import type { BreakdownLine, MemoryEstimate } from './estimate';
import { quantizedLinearCopies } from './estimateCpuLinears';
import { kvCacheElementBytes } from './runOptions';
import type { KvCacheType, LmHeadType } from './runOptions';
import type { QuantSettings } from './quantSettings';
import { describeSettings, quantSettingsOf } from './quantSettings';
import type { JsonObject, ResolvedModel, TensorMeta } from './types';
import { bitsPerWeightOf, weightLayout } from './weightLayout';

const F32 = 4;
/** Rows of a kernel panel (kPanelCols in kernels/matmul.cc, kQPanelRows in kernels/qmatmul.h). */
const PANEL_ROWS = 16;

export interface CpuEstimateOptions {
  /** Sequences run together (a benchmark's batch; generate runs 1). */
  batch: number;
  /** Prompt tokens per sequence: the largest forward pass. */
  promptTokens: number;
  /** Tokens generated per sequence; the KV cache holds promptTokens + newTokens positions. */
  newTokens: number;
  /** Engine threads (QUANTSTUDIO_THREADS, else one per hardware thread). */
  threads: number;
  /** Size of the tokenizer.json the process loads; 0 when it loads none. */
  tokenizerBytes: number;
  /** Logits for every position (perplexity) instead of each sequence's last (generate, benchmark). */
  allRows?: boolean;
  /** Embedding rows the process reads over its life, as prompt and as generated tokens; default
   *  batch × promptTokens and batch × newTokens. */
  tokensRead?: { prompt: number; generated: number };
  /** Ids a prompt can hold (its tokenizer's vocabulary) when fewer than the model's embedding rows. */
  promptVocab?: number;
  /** 'job': a job worker (default); 'measuring': a benchmark's measuring process, a fork that loads no tokenizer. */
  process?: 'job' | 'measuring';
  /** The KV cache's element type (the job's kvCache option); default fp32. */
  kvCache?: KvCacheType;
  /** The job's lmHead option: int8 replaces a dense lm_head by an int8 copy at load; default stored. */
  lmHead?: LmHeadType;
  constants?: CpuEngineConstants;
}

/** The dense tensor an int8 lm_head is quantized from (lm_head.weight, or the tied embedding); none when the
 *  checkpoint's head is quantized already (the engine leaves it). */
function int8HeadSource(tensors: readonly TensorMeta[], tied: boolean): { rows: number; cols: number; bytes: number } | undefined {
  const t = tensors.find((x) => (tied ? /(^|\.)(embed_tokens|wte)\.weight$/ : /(^|\.)lm_head\.weight$/).test(x.name));
  if (!t || !['F16', 'BF16', 'F32'].includes(t.dtype) || t.shape.length !== 2) return undefined;
  return { rows: t.shape[0]!, cols: t.shape[1]!, bytes: t.bytes };
}

const isNorm = (t: TensorMeta): boolean => /norm/.test(t.name) && t.shape.length === 1;
const isBias = (t: TensorMeta): boolean => t.name.endsWith('.bias') && !isNorm(t);
const isEmbedding = (t: TensorMeta): boolean => /(^|\.)(embed_tokens|embed_positions|wte|wpe)\.weight$/.test(t.name);
const numel = (t: TensorMeta): number => t.shape.reduce((a, b) => a * b, 1);

/** What reading embedding rows maps: a window per row read, prompt rows only among the ids a prompt can hold. */
function embeddingMappedBytes(
  t: TensorMeta,
  reads: { prompt: number; generated: number },
  promptVocab: number | undefined,
  window: number,
): number {
  const rows = t.shape[0] ?? 1;
  const reachable =
    promptVocab === undefined || promptVocab >= rows ? t.bytes : Math.ceil((promptVocab * t.bytes) / rows / window) * window;
  return Math.min(t.bytes, Math.min(reachable, reads.prompt * window) + reads.generated * window);
}

/** Bytes of the largest forward pass's fp32 buffers: x, h, delta, then attention (q, k, v, attended and each
 *  thread's per-head scratch) or the MLP (gate and up), whichever is larger. */
export function cpuActivationBytes(arch: Architecture, batch: number, promptTokens: number, threads: number): number {
  const rows = batch * promptTokens;
  const qWidth = arch.heads * arch.headDim,
    kvWidth = arch.kvHeads * arch.headDim;
  const headScratch = 2 * promptTokens * arch.headDim + promptTokens * promptTokens + arch.headDim * promptTokens;
  const attention = rows * (2 * qWidth + 2 * kvWidth) + Math.min(threads, arch.heads) * headScratch;
  const mlp = 2 * rows * arch.intermediate;
  return F32 * (3 * rows * arch.hidden + Math.max(attention, mlp));
}

/** Keys and values for every layer, capacity promptTokens + newTokens per sequence (runtime/kv_cache.h). */
export function cpuKvCacheBytes(
  arch: Architecture,
  batch: number,
  promptTokens: number,
  newTokens: number,
  type: KvCacheType = 'fp32',
): number {
  return 2 * arch.layers * arch.kvHeads * arch.headDim * (promptTokens + newTokens) * kvCacheElementBytes(type) * batch;
}

function checkOptions(o: CpuEstimateOptions): string | undefined {
  const counts: Array<[string, number, number]> = [
    ['batch', o.batch, 1],
    ['promptTokens', o.promptTokens, 1],
    ['newTokens', o.newTokens, 0],
    ['threads', o.threads, 1],
    ['tokenizerBytes', o.tokenizerBytes, 0],
    ['tokensRead.prompt', o.tokensRead?.prompt ?? 0, 0],
    ['tokensRead.generated', o.tokensRead?.generated ?? 0, 0],
    ['promptVocab', o.promptVocab ?? 1, 1],
  ];
  const bad = counts.find(([, v, min]) => !(Number.isInteger(v) && v >= min));
  return bad && `${bad[0]} ${bad[1]} must be an integer of at least ${bad[2]}`;
}

export function estimateCpuWithSettings(
  model: ResolvedModel,
  settings: QuantSettings,
  options: CpuEstimateOptions,
): Result<MemoryEstimate> {
  const problem = checkOptions(options);
  if (problem)
    return fail(
      'invalid',
      problem,
      'estimate options',
      'pass a batch, a prompt of at least one token, new tokens, threads and the tokenizer size',
    );
  const archResult = architectureOf(model.config, `${model.ref}/config.json`);
  if (!archResult.ok) return archResult;
  const arch = archResult.value;
  const c = options.constants ?? CPU_ENGINE_CONSTANTS;
  const { batch, promptTokens, newTokens, threads } = options;

  // Mapped weights: the stored layout (or the planned one), with embeddings only as far as tokens reach.
  const layout = weightLayout(model.tensors, settings, arch.computeDtype);
  const tiedHead = !model.tensors.some((t) => /(^|\.)lm_head\./.test(t.name));
  const head = options.lmHead === 'int8' ? int8HeadSource(model.tensors, tiedHead) : undefined;
  const reads = options.tokensRead ?? { prompt: batch * promptTokens, generated: batch * newTokens };
  let embeddingsStored = 0;
  let embeddingsMapped = 0;
  for (const t of model.tensors.filter(isEmbedding)) {
    embeddingsStored += t.bytes;
    embeddingsMapped +=
      tiedHead && !head && /embed_tokens|wte/.test(t.name)
        ? t.bytes
        : embeddingMappedBytes(t, reads, options.promptVocab, c.mappedWindowBytes);
  }
  const weightLines: BreakdownLine[] = layout.lines
    .filter((l) => !(head && !tiedHead && l.label === 'lm_head')) // its pages are released once copied
    .map((l) =>
      l.label === 'embeddings'
        ? { label: 'embeddings (mapped rows)', bytes: l.bytes - embeddingsStored + embeddingsMapped, count: l.count }
        : l,
    );

  // Heap copies the loaders and kernels keep.
  const copies = quantizedLinearCopies(model, arch, settings);
  const norms = model.tensors.filter(isNorm);
  const biases = model.tensors.filter(isBias);
  const copyLines: BreakdownLine[] = [
    { label: 'norms widened to fp32', bytes: F32 * norms.reduce((a, t) => a + numel(t), 0), count: norms.length },
    { label: 'biases widened to fp32', bytes: F32 * biases.reduce((a, t) => a + numel(t), 0), count: biases.length },
    { label: 'dequantization factors (fp32)', bytes: copies.factorBytes, count: copies.linears },
    { label: 'act-order sorted codes', bytes: copies.sortedCodeBytes, count: copies.sortedLinears },
    // pipeline/int8_lm_head.cc: int8 codes and each row's fp32 absmax
    { label: 'lm_head as int8 (quantized at load)', bytes: head ? head.rows * head.cols + F32 * head.rows : 0, count: 1 },
  ].filter((l) => l.bytes > 0);
  const loadCopy = copies.largestLoadCopyBytes;

  // Buffers of a run.
  const kv = cpuKvCacheBytes(arch, batch, promptTokens, newTokens, options.kvCache);
  const activations = cpuActivationBytes(arch, batch, promptTokens, threads);
  const logitRows = options.allRows ? batch * promptTokens : batch;
  const logits = F32 * logitRows * arch.vocab;
  const widestInput = Math.max(arch.hidden, arch.intermediate);
  const panels = PANEL_ROWS * widestInput * F32 * (copies.linears > 0 ? 2 : 1);
  const threadBytes = threads * (c.perThreadBytes + panels);
  const tokenizer = Math.round(options.tokenizerBytes * c.tokenizerBytesPerFileByte);

  const weightsBytes = [...weightLines, ...copyLines].reduce((a, l) => a + l.bytes, 0);
  const baseline = options.process === 'measuring' ? c.measuringProcessBaselineBytes : c.processBaselineBytes;
  const overheadBytes = baseline + tokenizer + threadBytes;
  const runBuffers = kv + activations + logits;
  const breakdown: BreakdownLine[] = [
    ...weightLines,
    ...copyLines,
    { label: `KV cache (${options.kvCache ?? 'fp32'})`, bytes: kv, count: batch * (promptTokens + newTokens) },
    { label: 'activations (fp32, prompt pass)', bytes: activations, count: batch * promptTokens },
    { label: 'logits (fp32)', bytes: logits, count: logitRows },
    ...(loadCopy > 0 ? [{ label: 'load-time layer copy (freed before the run)', bytes: loadCopy, count: 1 }] : []),
    ...(head ? [{ label: 'load-time dense lm_head (released once copied)', bytes: head.bytes, count: 1 }] : []),
    { label: 'engine threads', bytes: threadBytes, count: threads },
    ...(tokenizer > 0 ? [{ label: 'tokenizer', bytes: tokenizer, count: options.tokenizerBytes }] : []),
    {
      label: options.process === 'measuring' ? 'measuring process (Node, addon)' : 'worker process (Node, addon)',
      bytes: baseline,
      count: 1,
    },
  ];
  return ok({
    method: describeSettings(settings),
    weightsBytes,
    kvCacheBytes: kv,
    activationBytes: activations + logits,
    overheadBytes,
    // The int8 head is made when the model opens, before a forward pass maps the layers: then only the heap copies,
    // the process and the dense head's pages are resident.
    peakBytes: Math.max(
      weightsBytes + overheadBytes + Math.max(runBuffers, loadCopy),
      head ? copyLines.reduce((a, l) => a + l.bytes, 0) + overheadBytes + head.bytes : 0,
    ),
    // AWQ GEMM's codes are read once into the heap (their pages released): resident all the same, but not pageable.
    mappedBytes: weightLines.reduce((a, l) => a + l.bytes, 0) - copies.repackedCodeBytes,
    ...bitsPerWeightOf(layout),
    breakdown,
  });
}

/** The CPU engine estimate under a quantization config as users write it; no config → the model as stored. */
export function estimateCpuMemory(
  model: ResolvedModel,
  config: JsonObject | undefined,
  options: CpuEstimateOptions,
): Result<MemoryEstimate> {
  if (config === undefined) return estimateCpuWithSettings(model, { method: 'none' }, options);
  const settings = quantSettingsOf(config, 'quantization config');
  return settings.ok ? estimateCpuWithSettings(model, settings.value, options) : settings;
}
