// The benchmark job through the real job runner and worker on the demo model: the baseline, a GPTQ config
// variant quantized on the fly and an NF4 checkpoint variant, each measured in its own process.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { JobCancelledError, JobError } from '../../client/src/jobs/errors';
import { startJob } from '../../client/src/jobs/runner';
import type { Job, RunResult } from '../../client/src/jobs/runner';
import { RuntimeModel } from '../../native/lib/runtime';
import { TextTokenizer } from '../../native/lib/tokenizer';
import { isRunning } from '../../native/model';
import { benchmarkScratch } from '../helpers/benchmarkScratch';

const root = path.join(__dirname, '..', '..', '..');
const demo = path.join(root, 'examples', 'tiny-llama');
const evalTokens = 1024;
const gptq = { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true };

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validateRunResult = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'run-result.schema.json'), 'utf8')));

function weightBytes(folder: string): number {
  return fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((sum, f) => sum + fs.statSync(path.join(folder, f)).size, 0);
}

/** The protocol's first evalTokens ids of the WikiText-2 test text (tokenizing a generous prefix gives the
 *  same first ids as the whole text, in a fraction of the time). */
function evaluationIds(): number[] {
  const text = fs.readFileSync(path.join(root, 'examples', 'data', 'wikitext2-test.txt'), 'utf8');
  return TextTokenizer.load(demo)
    .encode(text.slice(0, 64 * evalTokens), { addSpecialTokens: false })
    .slice(0, evalTokens);
}

async function perplexityOf(folder: string, ids: number[]): Promise<number> {
  return (await RuntimeModel.open(folder).perplexity(ids, { seq: 256 })).perplexity;
}

describe('benchmark job', () => {
  const { scratch, workerTmp, nf4 } = benchmarkScratch('qs-benchmark-job-');

  const job: Job = {
    kind: 'benchmark',
    model: demo,
    config: gptq,
    options: {
      variants: [{ model: nf4 }],
      batchSizes: [4, 1],
      promptLength: 16,
      generate: { promptTokens: 8, newTokens: 16 },
      evaluate: { maxTokens: evalTokens },
      calibration: { nsamples: 8, seqlen: 128 },
      repeat: 1,
    },
  };

  it('measures the baseline, a quantized config and a checkpoint side by side, and leaves no scratch folder', async () => {
    const phases: string[] = [];
    const overall: number[] = [];
    const run: RunResult = await startJob(job, {
      onProgress: (p) => {
        phases.push(p.phase);
        if (p.overall !== undefined) overall.push(p.overall);
      },
    });
    assert.ok(validateRunResult(run), JSON.stringify(validateRunResult.errors));
    assert.deepEqual(fs.readdirSync(workerTmp), []);
    const rows = run.rows ?? [];

    // Per variant (baseline first), per batch size ascending: a forward row, then a generate row.
    const shape = rows.map((r) => [r.variant, r.phase, r.batch, r.promptTokens, r.newTokens]);
    const expected = ['fp16', 'gptq 4-bit g128', 'tiny-llama-nf4'].flatMap((v) =>
      [1, 4].flatMap((b) => [
        [v, 'forward', b, 16, 0],
        [v, 'generate', b, 8, 16],
      ]),
    );
    assert.deepEqual(shape, expected);
    const byVariant = (v: string) => rows.filter((r) => r.variant === v);
    const describe = (v: string) => {
      const r = byVariant(v)[0]!;
      return [r.quantization, r.bits, r.groupSize, r.actOrder, r.kernel];
    };
    assert.deepEqual(describe('fp16'), ['fp16', 16, null, null, 'fp16 matmul']);
    assert.deepEqual(describe('gptq 4-bit g128'), ['gptq', 4, 128, false, 'gptq fused']);
    assert.deepEqual(describe('tiny-llama-nf4'), ['nf4', 4, 64, null, 'bnb4 fused']);
    assert.ok(phases.includes('quantize gptq 4-bit g128') && phases.includes('measure tiny-llama-nf4 bs4'), phases.join(', '));
    // the whole job's progress only moves forward and ends complete
    assert.deepEqual(
      overall,
      [...overall].sort((a, b) => a - b),
    );
    assert.equal(overall.at(-1), 1);

    // Perplexity: the baseline's and the checkpoint's equal the in-process protocol on the same slice.
    const base = byVariant('fp16')[0]!;
    const ids = evaluationIds();
    assert.ok(Math.abs(base.perplexity! - (await perplexityOf(demo, ids))) < 1e-9);
    assert.ok(Math.abs(byVariant('tiny-llama-nf4')[0]!.perplexity! - (await perplexityOf(nf4, ids))) < 1e-9);
    assert.equal(run.metrics.perplexity, base.perplexity);
    for (const r of byVariant('fp16')) assert.equal(r.perplexityDelta, 0);
    const gptqDelta = byVariant('gptq 4-bit g128')[0]!.perplexityDelta!;
    assert.ok(gptqDelta > 0 && gptqDelta < 0.05 * base.perplexity!, `GPTQ 4-bit delta ${gptqDelta} vs baseline ${base.perplexity}`);
    for (const r of rows) {
      assert.equal(r.perplexityDelta, r.perplexity! - base.perplexity!);
      assert.equal(r.loadSeconds, byVariant(r.variant)[0]!.loadSeconds);
    }

    // Memory: each variant's own process holds at least its weights; the variants differ.
    const peak = (v: string) => Math.max(...byVariant(v).map((r) => r.peakMemoryBytes));
    assert.ok(peak('fp16') > weightBytes(demo));
    assert.ok(peak('tiny-llama-nf4') > weightBytes(nf4));
    assert.equal(new Set(['fp16', 'gptq 4-bit g128', 'tiny-llama-nf4'].map(peak)).size, 3);

    // Figures are consistent with each other (speed itself is measured by `npm run bench`, not asserted here).
    for (const r of rows) {
      // One token per sequence every perTokenLatencyMs, for the whole batch.
      assert.ok(Math.abs(r.throughputTokensPerSecond - (r.batch * 1000) / r.perTokenLatencyMs) < 1e-6 * r.throughputTokensPerSecond);
    }
  });

  it('a cancel while quantizing or measuring stops every process and removes the scratch folder', async () => {
    // While GPTQ quantizes; and while measuring a checkpoint in the scratch folder (RTN: quick to write).
    const rtnJob: Job = { ...job, config: undefined, options: { ...job.options, variants: [{ config: gptq, algorithm: 'rtn' }] } };
    for (const [cancelJob, phasePrefix] of [
      [job, 'quantize '],
      [rtnJob, 'measure rtn'],
    ] as const) {
      const controller = new AbortController();
      const children: number[] = [];
      let cancelledAt = 0;
      const outcome = await startJob(cancelJob, {
        signal: controller.signal,
        onLog: (_level, text) => {
          const pid = /: process (\d+)$/.exec(text)?.[1];
          if (pid) children.push(Number(pid));
        },
        onProgress: (p) => {
          if (cancelledAt === 0 && p.phase.startsWith(phasePrefix)) {
            cancelledAt = Date.now();
            controller.abort();
          }
        },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(outcome instanceof JobCancelledError, String(outcome));
      assert.equal(outcome.killed, false, 'the worker stopped by itself');
      assert.ok(Date.now() - cancelledAt < 1000);
      assert.deepEqual(fs.readdirSync(workerTmp), []);
      assert.ok(children.length > 0);
      assert.deepEqual(children.filter(isRunning), []);
    }
  });

  it('a variant folder that does not exist is INPUT_NOT_FOUND naming it, before any work', async () => {
    const missing = path.join(scratch, 'no-such-checkpoint');
    const outcome = await startJob({ ...job, options: { ...job.options, variants: [{ model: nf4 }, { model: missing }] } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(outcome instanceof JobError);
    assert.equal(outcome.code, 'INPUT_NOT_FOUND');
    assert.equal(outcome.where, missing);
    assert.equal(
      outcome.message,
      `options.variants[1].model: checkpoint folder not found: ${missing}; name a folder holding config.json and the weights`,
    );
    assert.deepEqual(fs.readdirSync(workerTmp), []);
  });
});
