// The fp16 KV cache (a run option): every golden model within a few half-precision roundings of transformers'
// fp32 logits, perplexity and greedy decoding unchanged on the trained tiny-llama, and jobs that take the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';

import { openModel, TextTokenizer, wikitext2TestPath } from '../../native/lib';
import { validateJob } from '../../native/worker/validateJob';
import { goldenModels, goldenPrompts, maxAbsDiff, tinyLlamaDir } from './runtime-fixtures';
import { atSimdLevel, simdLevels } from './simdLevels';

for (const level of simdLevels)
  test(`an fp16 KV cache keeps logits within 1% of the largest of transformers' fp32 logits, and differs from fp32's, at ${level}`, () =>
    atSimdLevel(level, async () => {
      for (const fixture of goldenModels) {
        const halves = openModel(fixture.dir, { kvCache: 'fp16' });
        const floats = openModel(fixture.dir);
        let worst = 0;
        let apart = 0;
        for (const { ids, logits } of goldenPrompts(fixture.golden)) {
          const ours = await halves.logits(ids);
          const scale = logits.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
          worst = Math.max(worst, maxAbsDiff(ours, logits) / scale);
          apart = Math.max(apart, maxAbsDiff(ours, await floats.logits(ids)) / scale);
        }
        // fp16 rounds each key and value by up to 2^-11 relative: measured 1.2e-4 to 3.4e-3 of the largest logit.
        assert.ok(worst < 1e-2, `${fixture.name}: ${worst}`);
        assert.ok(apart > 1e-6, `${fixture.name}: the fp16 cache gave the fp32 cache's logits (${apart})`);
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

test('kvCache: generate, perplexity and benchmark jobs take fp32 or fp16; anything else is refused naming the option', () => {
  for (const kind of ['generate', 'perplexity', 'benchmark'] as const) {
    const options = { ...(kind === 'generate' ? { prompt: 'Hi' } : {}), kvCache: 'fp16' };
    assert.equal(validateJob({ kind, model: tinyLlamaDir, options }).options.kvCache, 'fp16');
    assert.throws(
      () => validateJob({ kind, model: tinyLlamaDir, options: { ...options, kvCache: 'f16' } }),
      /options\.kvCache must be "fp32" or "fp16", got "f16"/,
    );
  }
  assert.throws(() => openModel(tinyLlamaDir, { kvCache: 'int8' as 'fp16' }), /kvCache must be "fp32" or "fp16", got "int8"/);
});
