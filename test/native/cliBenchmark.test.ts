// `quantstudio benchmark` as a user runs it: --model with --variant folders and --json, a job file with a
// `benchmark` section printed as a table, and the errors a user can make.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { quantstudio, repoRoot } from '../helpers/cli';
import { benchmarkScratch } from '../helpers/benchmarkScratch';
import type { RunResult } from '../../native/worker/protocol';

const demo = join(repoRoot, 'examples', 'tiny-llama');
const small = ['--prompt-length', '16', '--prompt-tokens', '8', '--new-tokens', '4'];

describe('quantstudio benchmark', () => {
  const { scratch, workerTmp, nf4 } = benchmarkScratch('qs-cli-benchmark-');

  it('--json prints the RunResult: one row per variant, batch size and phase', () => {
    const run = quantstudio(['benchmark', '--model', demo, '--variant', nf4, '--batch', '2,1', ...small, '--eval-tokens', '512', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as RunResult;
    assert.equal(result.kind, 'benchmark');
    assert.deepEqual(
      result.rows?.map((r) => [r.variant, r.quantization, r.kernel, r.phase, r.batch, r.promptTokens, r.newTokens]),
      [
        ['fp16', 'fp16', 'fp16 matmul'],
        ['tiny-llama-nf4', 'nf4', 'bnb4 fused'],
      ].flatMap((v) =>
        [1, 2].flatMap((b) => [
          [...v, 'forward', b, 16, 0],
          [...v, 'generate', b, 8, 4],
        ]),
      ),
    );
    assert.equal(result.metrics.evaluationTokens, 512);
    assert.ok(result.rows!.every((r) => r.perplexity! > 1 && r.throughputTokensPerSecond > 0 && r.peakMemoryBytes > 0));
    // every timed figure: the median of 3 runs after a warm-up, inside the range of the runs
    for (const r of result.rows!) {
      const [fast, slow] = r.perTokenLatencyMsRange!;
      const [low, high] = r.throughputTokensPerSecondRange!;
      assert.equal(r.runs, 3);
      assert.ok(fast <= r.perTokenLatencyMs && r.perTokenLatencyMs <= slow, JSON.stringify(r));
      assert.ok(low <= r.throughputTokensPerSecond && r.throughputTokensPerSecond <= high, JSON.stringify(r));
      // per step: a step yields one token of each sequence, so tokens/s = batch × 1000 / (ms per step)
      assert.ok(Math.abs(high - (r.batch * 1000) / fast) < 1e-6 * high, 'the fastest run gives the highest throughput');
    }
    assert.match(run.stderr, /^measure tiny-llama-nf4 bs2 /m);
    assert.deepEqual(readdirSync(workerTmp), []);
  });

  it('a job file with a benchmark section runs its model, its config and its variants, printed as a table', () => {
    const jobFile = join(scratch, 'bench.quant.json');
    writeFileSync(
      jobFile,
      JSON.stringify({
        model: relative(scratch, demo),
        quantization_config: { quant_method: 'gptq', bits: 4, group_size: 64 },
        algorithm: 'rtn',
        benchmark: {
          batchSizes: [1],
          promptLength: 16,
          generate: { promptTokens: 8, newTokens: 4 },
          evaluate: false,
          variants: [{ model: './tiny-llama-nf4', name: 'nf4 checkpoint' }],
        },
      }),
    );
    // The section is part of the job file schema: the file validates clean.
    const validation = quantstudio(['validate', jobFile]);
    assert.equal(validation.status, 0, validation.stdout);
    assert.match(validation.stdout, /1 file checked: 0 errors, 0 warnings\./);
    const run = quantstudio(['benchmark', jobFile]);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, new RegExp(`^benchmark of ${demo} in [0-9.]+ s \\([0-9]+ threads\\)$`));
    assert.deepEqual(lines[1]!.split(/\s{2,}/), [
      'variant',
      'phase',
      'batch',
      'tokens',
      'kernel',
      'load s',
      'ms/step',
      'tokens/s',
      'peak MiB',
      'perplexity',
      'delta',
    ]);
    assert.equal(
      lines.at(-1),
      'ms/step: one token of each sequence in the batch (per token at batch 1); median of 3 timed runs after a warm-up run (fastest–slowest in brackets)',
    );
    const cells = lines.slice(2, -1).map((l) => l.split(/\s{2,}/));
    for (const c of cells) assert.match(`${c[6]} | ${c[7]}`, /^\d+\.\d{3} \(\d+\.\d{3}–\d+\.\d{3}\) \| \d+\.\d \(\d+\.\d–\d+\.\d\)$/);
    assert.deepEqual(
      cells.map((c) => [c[0], c[1], c[2], c[3], c[4], c[9], c[10]]),
      [
        ['fp16', 'forward', '1', '16', 'fp16 matmul', '—', '—'],
        ['fp16', 'generate', '1', '8+4', 'fp16 matmul', '—', '—'],
        ['rtn 4-bit g64', 'forward', '1', '16', 'gptq fused', '—', '—'],
        ['rtn 4-bit g64', 'generate', '1', '8+4', 'gptq fused', '—', '—'],
        ['nf4 checkpoint', 'forward', '1', '16', 'bnb4 fused', '—', '—'],
        ['nf4 checkpoint', 'generate', '1', '8+4', 'bnb4 fused', '—', '—'],
      ],
    );
    assert.deepEqual(readdirSync(workerTmp), []);
  });

  it('a missing variant folder is exit 1 naming it; a bad flag is a usage error with exit 2', () => {
    const missing = join(scratch, 'no-such-checkpoint');
    const run = quantstudio(['benchmark', '--model', demo, '--variant', missing, ...small]);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      new RegExp(`^quantstudio benchmark: options\\.variants\\[0\\]\\.model: checkpoint folder not found: ${missing};`, 'm'),
    );
    const usage = quantstudio(['benchmark', '--model', demo, '--batch', '1,x']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--batch must be positive integers separated by commas, got '1,x'/);
  });
});
