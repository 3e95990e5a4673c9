// Perplexity with the project's protocol: tokenize the whole text (no special tokens), cut the ids into
// consecutive non-overlapping windows of `seq` inputs (window i predicts ids[i*seq+1 .. i*seq+seq]; the
// last, partial window counts too), fp32 compute, perplexity = exp(total NLL / predicted tokens).
import { bundledDataPath } from './bundledData';
import { RuntimeModel } from './runtime';
import { TextTokenizer } from './tokenizer';

export interface PerplexityOptions {
  /** Inputs per window; default 256. */
  seq?: number;
  /** Only the first N ids of the text (quick checks); default all. */
  maxTokens?: number;
  onProgress?: (windowsDone: number, windowsTotal: number) => void;
  signal?: AbortSignal;
}

export interface PerplexityResult {
  perplexity: number;
  /** Tokens of the (possibly truncated) text. */
  tokens: number;
  predicted: number;
  windows: number;
  seq: number;
  seconds: number;
}

export async function idsPerplexity(model: RuntimeModel, ids: number[], options: PerplexityOptions = {}): Promise<PerplexityResult> {
  const seq = options.seq ?? 256;
  const used = options.maxTokens === undefined ? ids : ids.slice(0, options.maxTokens);
  const r = await model.perplexity(used, { seq, signal: options.signal }, options.onProgress);
  return { perplexity: r.perplexity, tokens: used.length, predicted: r.tokens, windows: r.windows, seq, seconds: r.seconds };
}

export function textPerplexity(
  model: RuntimeModel,
  tokenizer: TextTokenizer,
  text: string,
  options: PerplexityOptions = {},
): Promise<PerplexityResult> {
  return idsPerplexity(model, tokenizer.encode(text, { addSpecialTokens: false }), options);
}

/** The WikiText-2 test text shipped in examples/data, the protocol's default corpus. */
export function wikitext2TestPath(): string {
  return bundledDataPath('wikitext2-test.txt', 'WikiText-2 test text');
}
