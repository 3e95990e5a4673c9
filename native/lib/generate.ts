// Text in, text out: tokenizes the prompt (or renders a chat through the tokenizer's template), generates
// on the engine and streams decoded text as tokens arrive.
import { GenerateIdsOptions, RuntimeModel, StopReason } from './runtime';
import { ChatMessage, TextTokenizer } from './tokenizer';

export interface GenerateTextOptions extends Omit<GenerateIdsOptions, 'stopIds'> {
  /** A plain prompt, or chat messages rendered with the tokenizer's chat template. */
  prompt: string | ChatMessage[];
}

export interface GenerateTextResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  stopReason: StopReason;
  /** Decode speed: generated tokens after the first per second of decoding. */
  tokensPerSecond: number;
  prefillSeconds: number;
  decodeSeconds: number;
}

/**
 * Streams text: the new tokens are decoded together with the ones before them, and only the text that
 * is stable (does not end in a partial UTF-8 character) is emitted.
 */
export class TextStream {
  private ids: number[] = [];
  private emitted = 0;

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly onText: (chunk: string) => void,
  ) {}

  push(id: number): void {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids);
    if (text.endsWith('\uFFFD')) return; // wait for the rest of a multi-byte character
    if (text.length > this.emitted) {
      this.onText(text.slice(this.emitted));
      this.emitted = text.length;
    }
  }
}

export function promptIds(tokenizer: TextTokenizer, prompt: string | ChatMessage[]): number[] {
  if (typeof prompt === 'string') return tokenizer.encode(prompt);
  return tokenizer.encode(tokenizer.applyChatTemplate(prompt));
}

export async function generateText(
  model: RuntimeModel,
  tokenizer: TextTokenizer,
  options: GenerateTextOptions,
  onText: (chunk: string) => void = () => undefined,
): Promise<GenerateTextResult> {
  const prompt = promptIds(tokenizer, options.prompt);
  const stream = new TextStream(tokenizer, onText);
  const eos = tokenizer.eosTokenId;
  const stopIds = [...new Set([...model.config.eosTokenIds, ...(eos === undefined ? [] : [eos])])];
  const result = await model.generateIds(prompt, { ...options, stopIds }, (id) => stream.push(id));
  const decodedTokens = Math.max(0, result.tokens.length - 1);
  return {
    text: tokenizer.decode(result.tokens),
    tokens: result.tokens,
    promptTokens: result.promptTokens,
    stopReason: result.stopReason,
    tokensPerSecond: result.decodeSeconds > 0 ? decodedTokens / result.decodeSeconds : 0,
    prefillSeconds: result.prefillSeconds,
    decodeSeconds: result.decodeSeconds,
  };
}
