// The CPU engine estimate against a real generate job: the worker's peak RSS on the demo model (fp16, a
// 27-token prompt, 64 new tokens) is within 10 % of the prediction. About a second; the larger models and
// the benchmark phases are measured by `npm run bench` (test/bench/memory.mjs).
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startJob } from '../../../client/src/jobs/runner';
import { estimateCpuMemory, resolveModel } from '../../../native/model';

const model = join(__dirname, '..', '..', '..', '..', 'examples', 'tiny-llama');

test('a generate job on tiny-llama peaks within 10 % of the CPU estimate', async () => {
  const maxTokens = 64;
  const r = await startJob({
    kind: 'generate',
    model,
    options: { prompt: "ROMEO: Is the day so young? O, I am fortune's fool, and yet I know not why I am so sad.", maxTokens },
  });
  const measured = r.metrics.peakRssBytes;
  const promptTokens = r.metrics.promptTokens;
  assert.ok(measured !== undefined && promptTokens !== undefined, 'the RunResult reports peakRssBytes and promptTokens');
  const resolved = await resolveModel(model, { env: {} });
  assert.ok(resolved.ok);
  const e = estimateCpuMemory(resolved.model, undefined, {
    batch: 1,
    promptTokens,
    newTokens: maxTokens,
    threads: r.environment.threads,
    tokenizerBytes: statSync(join(model, 'tokenizer.json')).size,
  });
  assert.ok(e.ok);
  const ratio = e.value.peakBytes / measured;
  assert.ok(
    Math.abs(ratio - 1) <= 0.1,
    `predicted ${(e.value.peakBytes / 2 ** 20).toFixed(1)} MiB, measured ${(measured / 2 ** 20).toFixed(1)} MiB (ratio ${ratio.toFixed(3)})`,
  );
});
