// Quantize jobs on a Mixture-of-Experts model through the job worker: the run result carries the calibration tokens
// routed to each expert, under GPTQ and AWQ.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { startJob } from '../../client/src/jobs';

const root = path.join(__dirname, '..', '..', '..');
const model = path.join(root, 'test', 'fixtures', 'mixtral-random');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-moe-job-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
const calibration = { tokens: Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 1000), nsamples: 8, seqlen: 64 };

test('a GPTQ job records the tokens routed to each expert of every MoE layer in its run result', async () => {
  const result = await startJob({
    kind: 'quantize',
    model,
    config: { quant_method: 'gptq', bits: 4, group_size: 32, desc_act: false },
    options: { out: path.join(scratch, 'gptq'), calibration },
  });
  assert.deepEqual(
    result.layers!.map((l) => [l.name, l.expertTokens!.length, l.expertTokens!.reduce((a, b) => a + b, 0), l.fallbackExperts]),
    [
      ['model.layers.0', 8, 1024, []],
      ['model.layers.1', 8, 1024, []],
    ],
  );
});

test('an AWQ job records the tokens routed to each expert, and which experts fell back to round-to-nearest', async () => {
  const result = await startJob({
    kind: 'quantize',
    model,
    config: { quant_method: 'awq', bits: 4, group_size: 32, version: 'gemm', zero_point: true },
    options: { out: path.join(scratch, 'awq'), calibration },
  });
  assert.deepEqual(
    result.layers!.map((l) => [l.name, l.expertTokens!.length, l.expertTokens!.reduce((a, b) => a + b, 0), l.fallbackExperts]),
    [
      ['model.layers.0', 8, 1024, []],
      ['model.layers.1', 8, 1024, []],
    ],
  );
});
