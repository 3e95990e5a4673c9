// Run options of the CPU engine for generate, perplexity and benchmark jobs: how it keeps the KV cache and the
// lm_head while decoding. Neither changes the checkpoint; both trade a little accuracy for bytes read per step.

/** fp32 (the default: the engine's outputs are held to transformers' fp32 within 1e-4) or fp16 (IEEE half: half
 *  the cache's memory and of the bytes each decode step reads, as llama.cpp's default cache and transformers' fp16
 *  models keep it; products and sums stay fp32). */
export type KvCacheType = 'fp32' | 'fp16';
export const KV_CACHE_TYPES: readonly KvCacheType[] = ['fp32', 'fp16'];

/** Bytes per cached key or value element. */
export function kvCacheElementBytes(type: KvCacheType = 'fp32'): number {
  return type === 'fp16' ? 2 : 4;
}

/** stored (the default: the checkpoint's lm_head as it is) or int8 (a dense lm_head quantized at load with
 *  LLM.int8's row-wise absmax rule, one byte per weight read per step; a quantized head is left as it is). */
export type LmHeadType = 'stored' | 'int8';
export const LM_HEAD_TYPES: readonly LmHeadType[] = ['stored', 'int8'];
