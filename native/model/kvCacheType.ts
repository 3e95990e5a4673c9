// The element type of the CPU engine's KV cache, a run option of generate, perplexity and benchmark jobs.

/** fp32 (the default: the engine's outputs are held to transformers' fp32 within 1e-4) or fp16 (IEEE half: half
 *  the cache's memory and of the bytes each decode step reads, as llama.cpp's default cache and transformers' fp16
 *  models keep it; products and sums stay fp32). */
export type KvCacheType = 'fp32' | 'fp16';
export const KV_CACHE_TYPES: readonly KvCacheType[] = ['fp32', 'fp16'];

/** Bytes per cached key or value element. */
export function kvCacheElementBytes(type: KvCacheType = 'fp32'): number {
  return type === 'fp16' ? 2 : 4;
}
