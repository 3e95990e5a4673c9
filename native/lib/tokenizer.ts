// Text ↔ token ids with @huggingface/tokenizers, from a model folder's tokenizer.json + tokenizer_config.json,
// and chat prompts through the tokenizer's own Jinja chat template (@huggingface/jinja).
import * as fs from 'fs';
import * as path from 'path';
import { otherThanFile } from '../model';
import type { Template as JinjaTemplate } from '@huggingface/jinja' with { 'resolution-mode': 'import' };
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };

// Both packages ship CommonJS builds (their `require` export); their types are declared as ESM only.
const { Template } = require('@huggingface/jinja') as { Template: typeof JinjaTemplate };
const { Tokenizer } = require('@huggingface/tokenizers') as { Tokenizer: typeof HfTokenizer };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface EncodeOptions {
  /** Add the tokenizer's special tokens (BOS, …). Perplexity uses false. Default false. */
  addSpecialTokens?: boolean;
}

type Json = Record<string, unknown>;

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

/** Reads a JSON object; errors name the file and what is wrong with it. */
function readJsonObject(file: string): Json {
  const other = otherThanFile(file);
  if (other) throw new Error(`${file}: ${other}`);
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof SyntaxError ? 'invalid JSON: ' : ''}${e instanceof Error ? e.message : String(e)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(
      `${file}: expected a JSON object, found ${Array.isArray(value) ? 'an array' : String(JSON.stringify(value)).slice(0, 40)}`,
    );
  }
  return value as Json;
}

export class TextTokenizer {
  private constructor(
    private readonly tokenizer: HfTokenizer,
    private readonly config: Json,
  ) {}

  static load(folder: string): TextTokenizer {
    const jsonPath = path.join(folder, 'tokenizer.json');
    if (!fs.existsSync(jsonPath)) {
      throw new Error(`${jsonPath}: not found; the runtime tokenizes with a Hugging Face tokenizer.json`);
    }
    const configPath = path.join(folder, 'tokenizer_config.json');
    const config = fs.existsSync(configPath) ? readJsonObject(configPath) : {};
    const tokenizerJson = readJsonObject(jsonPath);
    try {
      return new TextTokenizer(new Tokenizer(tokenizerJson, config), config);
    } catch (e) {
      throw new Error(`${jsonPath}: not a usable tokenizer: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  /** The id of tokenizer_config.json's eos_token, when it names one the vocabulary has. */
  get eosTokenId(): number | undefined {
    const eos = tokenText(this.config.eos_token);
    return eos === undefined ? undefined : this.tokenizer.token_to_id(eos);
  }

  get hasChatTemplate(): boolean {
    return typeof this.config.chat_template === 'string';
  }

  /** Renders messages with the tokenizer's chat template, ending with the assistant's turn opened. */
  applyChatTemplate(messages: ChatMessage[]): string {
    const source = this.config.chat_template;
    if (typeof source !== 'string') {
      throw new Error('this tokenizer has no chat_template in tokenizer_config.json; pass a plain prompt instead');
    }
    return new Template(source).render({
      messages,
      add_generation_prompt: true,
      bos_token: tokenText(this.config.bos_token) ?? '',
      eos_token: tokenText(this.config.eos_token) ?? '',
    });
  }
}
