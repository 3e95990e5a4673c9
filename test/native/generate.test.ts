import { test } from 'node:test';
import assert from 'node:assert/strict';

import { generateText } from '../../native/lib/generate';
import { openModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';
import { tinyLlamaDir } from './runtime-fixtures';

const prompt = [1260, 26]; // "ROMEO:"

test('tokens stream to the callback in order, before the promise resolves', async () => {
  const model = openModel(tinyLlamaDir);
  const streamed: number[] = [];
  const result = await model.generateIds(prompt, { maxTokens: 12, stopIds: [] }, (id) => streamed.push(id));
  assert.deepEqual(streamed, result.tokens);
  assert.equal(result.tokens.length, 12);
  assert.equal(result.stopReason, 'maxTokens');
  assert.equal(result.promptTokens, 2);
});

test('sampling is reproducible from the seed; top-k 1 is greedy', async () => {
  const model = openModel(tinyLlamaDir);
  const sampled = { maxTokens: 24, temperature: 1.0, topK: 50, topP: 0.95, stopIds: [] };
  const a = await model.generateIds(prompt, { ...sampled, seed: 7 });
  const b = await model.generateIds(prompt, { ...sampled, seed: 7 });
  const c = await model.generateIds(prompt, { ...sampled, seed: 8 });
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
  const greedy = await model.generateIds(prompt, { maxTokens: 24, stopIds: [] });
  const topOne = await model.generateIds(prompt, { maxTokens: 24, temperature: 1.5, topK: 1, seed: 3, stopIds: [] });
  assert.deepEqual(topOne.tokens, greedy.tokens);
});

test('generation stops on a stop id and on cancellation', async () => {
  const model = openModel(tinyLlamaDir);
  const greedy = await model.generateIds(prompt, { maxTokens: 10, stopIds: [] });
  const stopAt = greedy.tokens[3];
  const firstIndex = greedy.tokens.indexOf(stopAt);
  const stopped = await model.generateIds(prompt, { maxTokens: 10, stopIds: [stopAt] });
  assert.equal(stopped.stopReason, 'eos');
  assert.deepEqual(stopped.tokens, greedy.tokens.slice(0, firstIndex + 1));

  const controller = new AbortController();
  const seen: number[] = [];
  const cancelled = await model.generateIds(prompt, { maxTokens: 400, stopIds: [], signal: controller.signal }, (id) => {
    seen.push(id);
    if (seen.length === 2) controller.abort();
  });
  assert.equal(cancelled.stopReason, 'cancelled');
  assert.ok(cancelled.tokens.length < 400, `${cancelled.tokens.length} tokens`);
});

test('text generation: streamed chunks add up to the decoded text', async () => {
  const model = openModel(tinyLlamaDir);
  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  let streamed = '';
  const result = await generateText(model, tokenizer, { prompt: 'ROMEO:', maxTokens: 30 }, (chunk) => (streamed += chunk));
  assert.equal(streamed, result.text);
  assert.ok(result.tokens.length >= 1 && result.tokens.length <= 30);
  assert.equal(result.promptTokens, 2);
  assert.ok(result.text.length > 0);
});

test('generation errors: empty prompt', async () => {
  const model = openModel(tinyLlamaDir);
  await assert.rejects(model.generateIds([], { maxTokens: 3 }), /the prompt has no tokens/);
});
