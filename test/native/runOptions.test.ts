// The engine's run options (native/model/runOptions.ts): the fp16 KV cache and the int8 lm_head keep every golden
// model close to transformers' fp32 logits and tiny-llama's perplexity and greedy decoding, and jobs take them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';

import { openModel, TextTokenizer, wikitext2TestPath } from '../../native/lib';
import type { OpenOptions } from '../../native/lib/runtime';
import { validateJob } from '../../native/worker/validateJob';
import { goldenModels, goldenPrompts, maxAbsDiff, tinyLlamaDir } from './runtime-fixtures';
import { atSimdLevel, simdLevels } from './simdLevels';

/** For every golden model: the largest |logit − transformers' fp32 logit| under `options`, and the largest change
 *  against the default options, each over the prompt's largest |logit|. */
async function logitErrors(options: OpenOptions): Promise<Array<{ name: string; worst: number; apart: number }>> {
  const out = [];
  for (const fixture of goldenModels) {
    const ours = openModel(fixture.dir, options);
    const defaults = openModel(fixture.dir);
    let worst = 0;
    let apart = 0;
    for (const { ids, logits } of goldenPrompts(fixture.golden)) {
      const row = await ours.logits(ids);
      const scale = logits.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      worst = Math.max(worst, maxAbsDiff(row, logits) / scale);
      apart = Math.max(apart, maxAbsDiff(row, await defaults.logits(ids)) / scale);
    }
    out.push({ name: fixture.name, worst, apart });
  }
  return out;
}

for (const level of simdLevels)
  test(`an fp16 KV cache keeps logits within 1% of the largest of transformers' fp32 logits, and differs from fp32's, at ${level}`, () =>
    atSimdLevel(level, async () => {
      for (const { name, worst, apart } of await logitErrors({ kvCache: 'fp16' })) {
        // fp16 rounds each key and value by up to 2^-11 relative: measured 1.2e-4 to 3.4e-3 of the largest logit.
        assert.ok(worst < 1e-2, `${name}: ${worst}`);
        assert.ok(apart > 1e-6, `${name}: the fp16 cache gave the fp32 cache's logits (${apart})`);
      }
    }));

test('an fp16 KV cache: tiny-llama perplexity within 1e-4 relative and the same greedy tokens', async () => {
  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  const ids = tokenizer.encode(fs.readFileSync(wikitext2TestPath(), 'utf8'), { addSpecialTokens: false }).slice(0, 4096);
  const [floats, halves] = [openModel(tinyLlamaDir), openModel(tinyLlamaDir, { kvCache: 'fp16' })];
  const [p32, p16] = [await floats.perplexity(ids), await halves.perplexity(ids)];
  assert.notEqual(p16.perplexity, p32.perplexity);
  assert.ok(Math.abs(p16.perplexity / p32.perplexity - 1) < 1e-4, `${p32.perplexity} → ${p16.perplexity}`);
  const prompt = ids.slice(100, 140);
  const [g32, g16] = [
    await floats.generateIds(prompt, { maxTokens: 48, stopIds: [] }),
    await halves.generateIds(prompt, { maxTokens: 48, stopIds: [] }),
  ];
  assert.deepEqual(g16.tokens, g32.tokens);
});

for (const level of simdLevels)
  test(`an int8 lm_head keeps logits within 2% of the largest of transformers' fp32 logits, and differs from the stored head's, at ${level}`, () =>
    atSimdLevel(level, async () => {
      for (const { name, worst, apart } of await logitErrors({ lmHead: 'int8' })) {
        // Each weight rounds to 1/254 of its row's largest: measured 4.8e-3 to 8.7e-3 of the largest logit (tied heads too).
        assert.ok(worst < 2e-2, `${name}: ${worst}`);
        assert.ok(apart > 1e-5, `${name}: the int8 head gave the stored head's logits (${apart})`);
      }
    }));

test('an int8 lm_head: tiny-llama perplexity within 1e-3 relative and the same greedy tokens, with the fp16 cache too', async () => {
  const tokenizer = TextTokenizer.load(tinyLlamaDir);
  const ids = tokenizer.encode(fs.readFileSync(wikitext2TestPath(), 'utf8'), { addSpecialTokens: false }).slice(0, 4096);
  const stored = openModel(tinyLlamaDir);
  const base = await stored.perplexity(ids);
  const prompt = ids.slice(100, 140);
  const greedy = await stored.generateIds(prompt, { maxTokens: 48, stopIds: [] });
  for (const kvCache of ['fp32', 'fp16'] as const) {
    const int8 = openModel(tinyLlamaDir, { lmHead: 'int8', kvCache });
    const p = await int8.perplexity(ids);
    assert.notEqual(p.perplexity, base.perplexity);
    assert.ok(Math.abs(p.perplexity / base.perplexity - 1) < 1e-3, `${kvCache}: ${base.perplexity} → ${p.perplexity}`);
    assert.deepEqual((await int8.generateIds(prompt, { maxTokens: 48, stopIds: [] })).tokens, greedy.tokens, kvCache);
  }
});

test('run options: generate, perplexity and benchmark jobs take kvCache and lmHead; anything else is refused naming the option', () => {
  for (const kind of ['generate', 'perplexity', 'benchmark'] as const) {
    const options = { ...(kind === 'generate' ? { prompt: 'Hi' } : {}), kvCache: 'fp16', lmHead: 'int8' };
    const valid = validateJob({ kind, model: tinyLlamaDir, options }).options;
    assert.deepEqual([valid.kvCache, valid.lmHead], ['fp16', 'int8']);
    assert.throws(
      () => validateJob({ kind, model: tinyLlamaDir, options: { ...options, kvCache: 'f16' } }),
      /options\.kvCache must be "fp32" or "fp16", got "f16"/,
    );
    assert.throws(
      () => validateJob({ kind, model: tinyLlamaDir, options: { ...options, lmHead: 'int4' } }),
      /options\.lmHead must be "stored" or "int8", got "int4"/,
    );
  }
  assert.throws(() => openModel(tinyLlamaDir, { kvCache: 'int8' as 'fp16' }), /kvCache must be "fp32" or "fp16", got "int8"/);
  assert.throws(() => openModel(tinyLlamaDir, { lmHead: 'int4' as 'int8' }), /lmHead must be "stored" or "int8", got "int4"/);
});
