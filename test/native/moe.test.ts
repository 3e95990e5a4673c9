// Mixture-of-Experts runtime beyond the golden logits (runtime.test.ts): fp16 storage through generate and perplexity,
// and a decode step computing only the experts its token is routed to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { bf16ToF32, f32ToBf16, f32ToF16, readSafetensorsHeader, readTensor, writeSafetensors } from '../../native/lib/io';
import { idsPerplexity } from '../../native/lib/perplexity';
import { openModel } from '../../native/lib/runtime';
import { goldenModels, goldenPrompts, maxAbsDiff, nll } from './runtime-fixtures';

const moeFixtures = ['mixtral-random', 'qwen2-moe-random', 'qwen3-moe-random'].map((name) => goldenModels.find((m) => m.name === name)!);

/** A copy of `dir` whose bf16 tensors are rewritten by `edit` (fp32 values in, the tensor to write out). */
function copyWith(
  dir: string,
  edit: (name: string, values: Float32Array, shape: number[]) => { dtype: 'F16' | 'BF16'; data: Uint16Array },
): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-moe-'));
  for (const f of ['config.json', 'generation_config.json']) fs.copyFileSync(path.join(dir, f), path.join(out, f));
  const file = path.join(dir, 'model.safetensors');
  const tensors = readSafetensorsHeader(file).tensors.map(({ name }) => {
    const t = readTensor(file, name);
    const edited = edit(name, bf16ToF32(t.data as Uint16Array), t.shape);
    return { name, dtype: edited.dtype, shape: t.shape, data: edited.data };
  });
  writeSafetensors(path.join(out, 'model.safetensors'), tensors);
  return out;
}

for (const fixture of moeFixtures)
  test(`fp16 storage: logits, greedy decoding through the KV cache and perplexity: ${fixture.name}`, async () => {
    const dir = copyWith(fixture.dir, (_, values) => ({ dtype: 'F16', data: f32ToF16(values) }));
    try {
      const model = openModel(dir);
      // bf16 weights are fp16 values but for the few below fp16's normal range: transformers' fp32 logits still hold.
      for (const { ids, logits } of goldenPrompts(fixture.golden)) assert.ok(maxAbsDiff(await model.logits(ids), logits) < 1e-3);
      const prompt = [146, 230, 89];
      const result = await model.generateIds(prompt, { maxTokens: 8, stopIds: [] });
      const vocab = model.config.vocabSize;
      const full = await model.logits([...prompt, ...result.tokens]);
      result.tokens.forEach((token, i) => {
        const row = full.subarray((prompt.length - 1 + i) * vocab, (prompt.length + i) * vocab);
        assert.equal(token, row.indexOf(Math.max(...row)), `token ${i}`);
      });
      const ids = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % vocab);
      let total = 0;
      for (let start = 0; start < ids.length - 1; start += 16) {
        const inputs = ids.slice(start, Math.min(start + 16, ids.length - 1));
        const logits = await model.logits(inputs);
        inputs.forEach((_, i) => (total += nll(logits.subarray(i * vocab, (i + 1) * vocab), ids[start + i + 1])));
      }
      const r = await idsPerplexity(model, ids, { seq: 16 });
      const expected = Math.exp(total / (ids.length - 1));
      assert.ok(Math.abs(r.perplexity - expected) < 1e-6 * expected, `${r.perplexity} vs ${expected}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

test('a one-token step computes only the experts it is routed to: a NaN expert poisons exactly the tokens routed there', async () => {
  const fixture = moeFixtures[0];
  // Expert 3's w2 (down) is NaN in every layer; were every expert computed and weighted by zero, every token would be NaN.
  const dir = copyWith(fixture.dir, (name, values) => ({
    dtype: 'BF16',
    data: f32ToBf16(/experts\.3\.w2\./.test(name) ? values.fill(NaN) : values),
  }));
  try {
    const clean = openModel(fixture.dir),
      poisoned = openModel(dir);
    let untouched = 0,
      hit = 0;
    for (let token = 0; token < 64; token++) {
      const expected = await clean.logits([token]),
        got = await poisoned.logits([token]);
      if (got.every(Number.isFinite)) {
        assert.deepEqual(got, expected, `token ${token}`);
        untouched++;
      } else {
        assert.ok(got.every(Number.isNaN), `token ${token}: NaN everywhere once expert 3 ran`);
        hit++;
      }
    }
    // Top-2 of 8 experts over 2 layers: about 44% of tokens meet expert 3.
    assert.ok(untouched > 10 && hit > 10, `untouched ${untouched}, hit ${hit}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
