// A quantize job's perplexity evaluation follows job.schema.json's defaults: with `evaluate` given, `after`
// defaults to true and `before` to false; without it, the job evaluates nothing.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { startJob } from '../../client/src/jobs';

const root = path.join(__dirname, '..', '..', '..');
const model = path.join(root, 'examples', 'tiny-llama');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-evaluate-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

const job = (name: string, options: Record<string, unknown>) => ({
  kind: 'quantize' as const,
  model,
  config: { quant_method: 'gptq', bits: 4, group_size: 64 },
  options: { algorithm: 'rtn', out: path.join(scratch, name), ...options },
});

test('evaluate without `after` measures the quantized model (the schema default); no evaluate measures nothing', async () => {
  const evaluated = await startJob(job('evaluated', { evaluate: { maxTokens: 257, seq: 128 } }));
  assert.equal(typeof evaluated.metrics.perplexityAfter, 'number');
  assert.equal(evaluated.metrics.perplexityBefore, undefined);
  const plain = await startJob(job('plain', {}));
  assert.equal(plain.metrics.perplexityAfter, undefined);
  assert.equal(plain.metrics.perplexityBefore, undefined);
});
