// The ids every variant runs on: the start of the WikiText-2 test text, tokenized with the model's tokenizer
// once, long enough for the largest batch of prompts (sequence b reads its own stretch) and the perplexity slice.
import * as fs from 'fs';
import { TextTokenizer, wikitext2TestPath } from '../../../lib';
import { JobFailure } from '../../jobFailure';
import type { BenchmarkPlan } from './plan';

/** Characters per token are about 4 in English text; reading 8 per token needed leaves a wide margin. */
const CHARS_PER_TOKEN_MARGIN = 8;

export function tokensNeeded(plan: BenchmarkPlan): number {
  const batch = Math.max(...plan.batchSizes);
  return Math.max(batch * plan.promptLength, batch * plan.generate.promptTokens, plan.evaluate?.maxTokens ?? 0);
}

export function tokenPool(modelFolder: string, plan: BenchmarkPlan): number[] {
  const needed = tokensNeeded(plan);
  const tokenizer = TextTokenizer.load(modelFolder);
  const text = fs.readFileSync(wikitext2TestPath(), 'utf8');
  let ids = tokenizer.encode(text.slice(0, needed * CHARS_PER_TOKEN_MARGIN), { addSpecialTokens: false });
  if (ids.length <= needed) ids = tokenizer.encode(text, { addSpecialTokens: false });
  if (ids.length < needed) {
    throw new JobFailure(
      'INVALID_JOB',
      `the benchmark needs ${needed} tokens of WikiText-2 test text (largest batch × prompt, and the perplexity slice); the text has ${ids.length}. Use smaller batch sizes, prompts or options.evaluate.maxTokens`,
      'options',
    );
  }
  return ids.slice(0, needed);
}
