import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';

import { openModel } from '../../native/lib/runtime';
import { idsPerplexity, textPerplexity, wikitext2TestPath } from '../../native/lib/perplexity';
import { TextTokenizer } from '../../native/lib/tokenizer';
import { nll, tinyLlamaDir } from './runtime-fixtures';

// The full WikiText-2 figure (70.56 over ~380k tokens) takes one to several minutes on two busy cores, so
// it is checked by test/bench/runtime.mjs; here the protocol is checked against logits() and on a prefix.

test('perplexity windows follow the protocol: consecutive, non-overlapping, last partial window counted', async () => {
  const model = openModel(tinyLlamaDir);
  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  const ids = tokenizer.encode(fs.readFileSync(wikitext2TestPath(), 'utf8')).slice(0, 2 * 64 + 20);
  const vocab = model.config.vocabSize;
  let total = 0;
  for (let start = 0; start < ids.length - 1; start += 64) {
    const inputs = ids.slice(start, Math.min(start + 64, ids.length - 1));
    const logits = await model.logits(inputs);
    inputs.forEach((_, i) => (total += nll(logits.subarray(i * vocab, (i + 1) * vocab), ids[start + i + 1])));
  }
  const expected = Math.exp(total / (ids.length - 1));
  const progress: number[] = [];
  const r = await idsPerplexity(model, ids, { seq: 64, onProgress: (done, all) => progress.push(done / all) });
  assert.equal(r.windows, 3);
  assert.equal(r.predicted, ids.length - 1);
  assert.ok(Math.abs(r.perplexity - expected) < 1e-6 * expected, `${r.perplexity} vs ${expected}`);
  assert.deepEqual(progress.at(-1), 1);
});

// transformers 5.23 (torch 2.15, CPU, the fp16 checkpoint evaluated in fp32) on the first 8192 tokens of the
// WikiText-2 test text with the same protocol. The whole text gives 70.5563 (the models README).
const prefixTokens = 8192;
const transformersPrefixPerplexity = 68.477448;

test('tiny-llama on a WikiText-2 test prefix (8192 tokens, 256-token windows) matches transformers', async () => {
  const model = openModel(tinyLlamaDir);
  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  const r = await textPerplexity(model, tokenizer, fs.readFileSync(wikitext2TestPath(), 'utf8'), { maxTokens: prefixTokens });
  assert.equal(r.windows, 32);
  assert.equal(r.predicted, prefixTokens - 1);
  assert.ok(Math.abs(r.perplexity - transformersPrefixPerplexity) < 0.005, `perplexity ${r.perplexity}`);
});

test('perplexity errors: fewer than two tokens, cancelled runs', async () => {
  const model = openModel(tinyLlamaDir);
  await assert.rejects(idsPerplexity(model, [5]), /perplexity needs at least 2 tokens, got 1/);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    idsPerplexity(
      model,
      Array.from({ length: 600 }, (_, i) => i % 4000),
      { signal: controller.signal },
    ),
    /cancelled/,
  );
});
