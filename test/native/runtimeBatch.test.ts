// Batched prefill and greedy generation (RuntimeModel.forwardBatch / generateBatch) against the single-sequence
// paths they must agree with, on dense Llama / Qwen2 / OPT fixtures and quantized checkpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'events';
import * as path from 'path';

import { openModel, RuntimeModel } from '../../native/lib/runtime';
import { relativeError } from './qlinearFixtures';
import { repoRoot, tinyLlamaDir } from './runtime-fixtures';

const fixtures = [
  { name: 'tiny-llama (Llama fp16, GQA)', dir: tinyLlamaDir },
  { name: 'qwen2-random (q/k/v bias, tied)', dir: path.join(repoRoot, 'test', 'fixtures', 'qwen2-random') },
  { name: 'opt-random (LayerNorm, learned positions)', dir: path.join(repoRoot, 'test', 'fixtures', 'opt-random') },
  { name: 'gptq-4bit-g128 (GPTQModel checkpoint)', dir: path.join(repoRoot, 'test', 'fixtures', 'upstream-written', 'gptq-4bit-g128') },
  {
    name: 'bnb-nf4-double-quant (bitsandbytes checkpoint)',
    dir: path.join(repoRoot, 'test', 'fixtures', 'upstream-written', 'bnb-nf4-double-quant'),
  },
];

/** `count` sequences of `length` different ids in the vocabulary (a fixed LCG, so every run sees the same ids). */
function sequences(count: number, length: number, vocab: number, seed: number): number[][] {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return 1 + (s % (vocab - 1));
  };
  return Array.from({ length: count }, () => Array.from({ length }, next));
}

/** The rejection every cancelled engine call gives. */
const isCancelled = (e: unknown): boolean => e instanceof Error && e.message === 'cancelled';

async function greedyOne(model: RuntimeModel, prompt: number[], newTokens: number): Promise<number[]> {
  const r = await model.generateIds(prompt, { maxTokens: newTokens, stopIds: [] });
  assert.equal(r.stopReason, 'maxTokens');
  return r.tokens;
}

for (const fixture of fixtures) {
  test(`forwardBatch of 3 sequences gives each one's own last-position logits within 1e-4: ${fixture.name}`, async () => {
    const model = openModel(fixture.dir);
    const vocab = model.config.vocabSize;
    const seqs = sequences(3, 11, vocab, 7);
    const { logits, seconds } = await model.forwardBatch(seqs.flat(), 3);
    assert.equal(logits.length, 3 * vocab);
    assert.ok(seconds > 0);
    for (let b = 0; b < 3; b++) {
      const single = await model.logits(seqs[b]);
      const err = relativeError(logits.subarray(b * vocab, (b + 1) * vocab), single.subarray(10 * vocab));
      assert.ok(err <= 1e-4, `sequence ${b}: relative error ${err}`);
    }
  });

  test(`generateBatch gives each prompt's own greedy tokens: ${fixture.name}`, async () => {
    const model = openModel(fixture.dir);
    const prompts = sequences(3, 5, model.config.vocabSize, 11);
    const newTokens = 8;
    const steps: number[] = [];
    const r = await model.generateBatch(prompts.flat(), 3, newTokens, {}, (done) => steps.push(done));
    assert.ok(r.tokens instanceof Int32Array);
    assert.equal(r.tokens.length, 3 * newTokens);
    for (let b = 0; b < 3; b++) {
      assert.deepEqual(
        Array.from(r.tokens.subarray(b * newTokens, (b + 1) * newTokens)),
        await greedyOne(model, prompts[b], newTokens),
        `prompt ${b}`,
      );
    }
    assert.ok(steps.length >= 1 && steps.every((d, i) => i === 0 || d > steps[i - 1]), `steps ${steps.join(',')}`);
    assert.equal(steps[steps.length - 1], newTokens);
    assert.ok(r.prefillSeconds > 0 && r.decodeSeconds > 0);
  });
}

test('batch 1 is the single-sequence path: generateBatch tokens equal generateIds, forwardBatch logits match the last row within 1e-5', async () => {
  const model = openModel(tinyLlamaDir);
  const vocab = model.config.vocabSize;
  for (const prompt of sequences(3, 9, vocab, 3)) {
    const batched = await model.generateBatch(prompt, 1, 12);
    assert.deepEqual(Array.from(batched.tokens), await greedyOne(model, prompt, 12));
    const { logits } = await model.forwardBatch(prompt, 1);
    const single = await model.logits(prompt);
    assert.ok(relativeError(logits, single.subarray(8 * vocab)) <= 1e-5);
  }
});

test('bad batches and lengths reject with a message naming the problem', async () => {
  const model = openModel(tinyLlamaDir);
  await assert.rejects(model.forwardBatch([1, 2, 3, 4, 5], 2), /forwardBatch: 5 ids do not split into 2 sequences of equal length/);
  await assert.rejects(model.forwardBatch([1, 2, 3, 4], 0), /forwardBatch: batch must be at least 1, got 0/);
  await assert.rejects(model.forwardBatch([], 1), /forwardBatch: the id list is empty/);
  await assert.rejects(model.forwardBatch([1, 2, 3, 4], 1.5), /forwardBatch: batch must be an integer, got 1.5/);
  await assert.rejects(model.forwardBatch([1, 2, 3, 99999], 2), /token id 99999 at index 3 is outside the vocabulary \(vocab_size 4096\)/);
  await assert.rejects(model.generateBatch([1, 2, 3], 2, 4), /generateBatch: 3 ids do not split into 2 sequences/);
  await assert.rejects(model.generateBatch([1, 2, 3, 4], 2, 0), /generateBatch: newTokens must be at least 1, got 0/);
  await assert.rejects(model.generateBatch([1, 2, 3, 4], -1, 3), /generateBatch: batch must be at least 1, got -1/);
});

test("a batch beyond the model's position limit is refused before any work, naming the limit", async () => {
  const opt = openModel(path.join(repoRoot, 'test', 'fixtures', 'opt-random'));
  await assert.rejects(
    opt.generateBatch(new Array(2 * 100).fill(5), 2, 30),
    /generateBatch: each sequence needs 129 positions \(100 prompt tokens \+ 30 new tokens − 1\), OPTForCausalLM runs at most 128 \(its learned positions \(max_position_embeddings\)\)/,
  );
  await assert.rejects(
    opt.forwardBatch(new Array(2 * 129).fill(5), 2),
    /forwardBatch: each sequence needs 129 positions \(its length\), OPTForCausalLM runs at most 128/,
  );
  // Exactly at the limit runs.
  const r = await opt.generateBatch(new Array(2 * 100).fill(5), 2, 29);
  assert.equal(r.tokens.length, 58);
});

test('aborting rejects with "cancelled" promptly, during decode and during the prefill', async () => {
  const model = openModel(tinyLlamaDir);
  const prompts = sequences(16, 30, model.config.vocabSize, 5).flat();
  const decoding = new AbortController();
  let abortedAt = 0n;
  const run = model.generateBatch(prompts, 16, 512, { signal: decoding.signal }, (done) => {
    if (done >= 2 && abortedAt === 0n) {
      abortedAt = process.hrtime.bigint();
      decoding.abort();
    }
  });
  await assert.rejects(run, isCancelled);
  const seconds = Number(process.hrtime.bigint() - abortedAt) / 1e9;
  assert.ok(abortedAt > 0n && seconds < 2, `rejected ${seconds}s after the abort`);

  const prefill = new AbortController();
  const forward = model.forwardBatch(sequences(16, 256, model.config.vocabSize, 9).flat(), 16, { signal: prefill.signal });
  setTimeout(() => prefill.abort(), 20);
  await assert.rejects(forward, isCancelled);

  const already = new AbortController();
  already.abort();
  await assert.rejects(model.generateBatch([1, 2], 1, 4, { signal: already.signal }), /cancelled/);
});

test('one signal shared by many calls keeps no listener once they settle (a benchmark repeats each measurement)', async () => {
  const model = openModel(tinyLlamaDir);
  const controller = new AbortController();
  for (let i = 0; i < 12; i++) {
    await model.forwardBatch([1, 2, 3, 4], 2, { signal: controller.signal });
    await model.generateBatch([1, 2, 3, 4], 2, 2, { signal: controller.signal });
  }
  await model.generateIds([1, 2], { maxTokens: 2, signal: controller.signal });
  await assert.rejects(model.forwardBatch([1, 2, 3], 2, { signal: controller.signal }), /do not split/);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});
