// A job file's LoRA adapter folders, as the editor's Quantize and Benchmark commands and the CLI read them: the
// top-level adapter (merge then quantize) and benchmark.adapter, both relative to the job file; the worker checks
// the option's type.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { benchmarkJobFromJobFile } from '../../../client/src/jobs/benchmarkJobFile';
import { jobFromJobFile } from '../../../client/src/jobs/quantizeJobFile';
import { validateJob } from '../../../native/worker/validateJob';

describe('a job file with a LoRA adapter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-job-adapter-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'jobs'));
  const file = join(dir, 'jobs', 'tiny.quant.json');
  writeFileSync(
    file,
    JSON.stringify({
      model: '../model',
      quantization_config: { quant_method: 'gptq', bits: 4, group_size: 128 },
      output: 'out',
      adapter: '../adapters/merge-me',
      benchmark: { adapter: 'run-me', batchSizes: [1] },
    }),
  );

  it("the top-level adapter is the quantize job's merge-then-quantize folder, resolved against the file", () => {
    const job = jobFromJobFile(file);
    assert.ok(typeof job !== 'string', String(job));
    assert.equal(job.options.adapter, join(dir, 'adapters', 'merge-me'));
    assert.equal(validateJob(job).options.adapter, join(dir, 'adapters', 'merge-me'));
  });

  it("benchmark.adapter is the benchmark job's run-time adapter, resolved against the file", () => {
    const job = benchmarkJobFromJobFile(file);
    assert.ok(typeof job !== 'string', String(job));
    assert.equal(job.options.adapter, join(dir, 'jobs', 'run-me'));
  });

  it('a job whose adapter is not a folder path is refused naming the option', () => {
    const required: Record<string, Record<string, string>> = {
      generate: { prompt: 'p' },
      perplexity: {},
      benchmark: {},
      quantize: { out: 'o' },
    };
    for (const [kind, options] of Object.entries(required))
      assert.throws(
        () => validateJob({ kind, model: 'm', options: { ...options, adapter: 3 } }),
        /options\.adapter must be a folder path, got 3/,
      );
  });
});
