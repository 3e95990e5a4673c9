// Token ids from TypeScript reach the engine as int32: an id past 2^31, negative or fractional is refused
// with its index, never wrapped or truncated into some other token.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { RuntimeModel, toIds } from '../../native/lib/runtime';
import { tinyLlamaDir } from './runtime-fixtures';

const BAD: Array<[number, string]> = [
  [2 ** 32 + 5, '4294967301'],
  [2 ** 31, '2147483648'],
  [-1, '-1'],
  [1.5, '1.5'],
  [NaN, 'NaN'],
];

test('toIds keeps valid ids and refuses the others, naming the index', () => {
  assert.deepEqual([...toIds([0, 7, 2 ** 31 - 1])], [0, 7, 2 ** 31 - 1]);
  for (const [id, text] of BAD) {
    assert.throws(() => toIds([1, 2, id], 'prompt'), new RegExp(`prompt\\[2\\] is ${text.replace('.', '\\.')}, not a token id`));
  }
});

test('generate, perplexity, logits and the batch paths refuse such ids instead of running on wrapped ones', async () => {
  const model = RuntimeModel.open(tinyLlamaDir);
  const ids = [1, 2 ** 32 + 5, 3];
  const refused = /\[1\] is 4294967301, not a token id/;
  await assert.rejects(async () => model.generateIds(ids, { maxTokens: 1 }), refused);
  await assert.rejects(async () => model.generateIds([1, 2], { maxTokens: 1, stopIds: [0.5] }), /stopIds\[0\] is 0\.5/);
  await assert.rejects(async () => model.perplexity(ids, { seq: 2 }), refused);
  await assert.rejects(async () => model.logits(ids), refused);
  await assert.rejects(async () => model.forwardBatch(ids, 1), refused);
  await assert.rejects(async () => model.generateBatch(ids, 1, 1), refused);
  const ok = await model.generateIds([1, 5], { maxTokens: 1 });
  assert.equal(ok.tokens.length, 1);
});
