// RunResult exports: exact CSV, Markdown and JSON text for fixed results, and the fixtures obey the schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { exportRun, toCsv, toJson, toMarkdown } from '../../../client/src/jobs/export';
import type { RunResult } from '../../../native/worker/protocol';

const root = path.join(__dirname, '..', '..', '..', '..');
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validateRunResult = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'run-result.schema.json'), 'utf8')));

const environment = { engineVersion: '0.1.0', threads: 2, cpu: 'AMD EPYC', avx2: true, os: 'linux 6.1 x64', node: 'v20.20.2' };

const benchmark: RunResult = {
  schemaVersion: 1,
  id: 'b-1',
  kind: 'benchmark',
  startedAt: '2026-11-23T10:00:00.000Z',
  finishedAt: '2026-11-23T10:01:30.000Z',
  durationSeconds: 90,
  model: { ref: 'examples/tiny-llama', architecture: 'LlamaForCausalLM', params: 4980736 },
  environment,
  metrics: {},
  rows: [
    {
      variant: 'fp16',
      phase: 'forward',
      promptTokens: 512,
      newTokens: 0,
      quantization: 'fp16',
      bits: 16,
      groupSize: null,
      actOrder: null,
      kernel: 'f16-gemv',
      batch: 1,
      loadSeconds: 0.021,
      perTokenLatencyMs: 1.23456,
      throughputTokensPerSecond: 810,
      peakMemoryBytes: 20971520,
      perplexity: 57.77857,
      perplexityDelta: 0,
    },
    {
      variant: 'gptq, desc_act',
      phase: 'forward',
      promptTokens: 512,
      newTokens: 0,
      quantization: 'gptq, desc_act',
      bits: 4,
      groupSize: 128,
      actOrder: true,
      kernel: 'gptq-int4',
      batch: 16,
      loadSeconds: 0.5,
      perTokenLatencyMs: 0.25,
      perTokenLatencyMsRange: [0.24, 0.3],
      throughputTokensPerSecond: 4000,
      throughputTokensPerSecondRange: [3333.3, 4166.7],
      runs: 3,
      peakMemoryBytes: 8388608,
      perplexity: 59.1,
      perplexityDelta: 1.32143,
    },
  ],
};

const generation: RunResult = {
  schemaVersion: 1,
  id: 'g-1',
  kind: 'generate',
  startedAt: '2026-11-23T10:05:00.000Z',
  finishedAt: '2026-11-23T10:05:01.000Z',
  durationSeconds: 1.5,
  model: { ref: 'examples/tiny-llama' },
  environment: { ...environment, avx2: false },
  metrics: { tokens: 12, tokensPerSecond: 745.671 },
  text: 'The game | "ok"',
  output: { folder: '/tmp/out', bytes: 120 },
};

test('the fixed results are valid RunResults', () => {
  for (const r of [benchmark, generation]) assert.ok(validateRunResult(r), JSON.stringify(validateRunResult.errors));
});

test('a benchmark exports its table rows as CSV, quoting cells with commas and leaving nulls empty', () => {
  assert.equal(
    toCsv(benchmark),
    [
      'Variant,Phase,Prompt tokens,New tokens,Quantization,Bits,Group size,Act-order,Kernel,Batch,Load (s),Latency per step (ms),Latency min (ms),Latency max (ms),' +
        'Throughput (tokens/s),Throughput min (tokens/s),Throughput max (tokens/s),Timed runs,Peak memory (bytes),Perplexity,Perplexity delta',
      'fp16,forward,512,0,fp16,16,,,f16-gemv,1,0.021,1.23456,,,810,,,,20971520,57.77857,0',
      '"gptq, desc_act",forward,512,0,"gptq, desc_act",4,128,true,gptq-int4,16,0.5,0.25,0.24,0.3,4000,3333.3,4166.7,3,8388608,59.1,1.32143',
      '',
    ].join('\r\n'),
  );
});

test('a run without rows exports its metrics as CSV pairs', () => {
  assert.equal(toCsv(generation), 'Metric,Value\r\ntokens,12\r\ntokensPerSecond,745.671\r\n');
});

test('Markdown has a summary, a table with rounded numbers and the generated text', () => {
  assert.equal(
    toMarkdown(benchmark),
    [
      '# benchmark: examples/tiny-llama',
      '',
      '- Started: 2026-11-23T10:00:00.000Z',
      '- Duration: 90 s',
      '- Engine: 0.1.0, 2 threads, AMD EPYC (AVX2), linux 6.1 x64, Node v20.20.2',
      '',
      '| Variant | Phase | Prompt tokens | New tokens | Quantization | Bits | Group size | Act-order | Kernel | Batch | Load (s) | Latency per step (ms) | Latency min (ms) | Latency max (ms) ' +
        '| Throughput (tokens/s) | Throughput min (tokens/s) | Throughput max (tokens/s) | Timed runs | Peak memory (bytes) | Perplexity | Perplexity delta |',
      `|${' --- |'.repeat(21)}`,
      '| fp16 | forward | 512 | 0 | fp16 | 16 | — | — | f16-gemv | 1 | 0.021 | 1.235 | — | — | 810 | — | — | — | 20971520 | 57.78 | 0 |',
      '| gptq, desc_act | forward | 512 | 0 | gptq, desc_act | 4 | 128 | true | gptq-int4 | 16 | 0.5 | 0.25 | 0.24 | 0.3 | 4000 | 3333 | 4167 | 3 | 8388608 | 59.1 | 1.321 |',
      '',
    ].join('\n'),
  );
  assert.equal(
    toMarkdown(generation),
    [
      '# generate: examples/tiny-llama',
      '',
      '- Started: 2026-11-23T10:05:00.000Z',
      '- Duration: 1.5 s',
      '- Engine: 0.1.0, 2 threads, AMD EPYC, linux 6.1 x64, Node v20.20.2',
      '- Output: /tmp/out (120 bytes)',
      '',
      '| Metric | Value |',
      '| --- | --- |',
      '| tokens | 12 |',
      '| tokensPerSecond | 745.7 |',
      '',
      '## Text',
      '',
      '```text',
      'The game | "ok"',
      '```',
      '',
    ].join('\n'),
  );
});

test('JSON export is the result itself, and exportRun picks the format', () => {
  assert.deepEqual(JSON.parse(toJson(generation)), generation);
  assert.equal(exportRun(generation, 'json'), toJson(generation));
  assert.equal(exportRun(benchmark, 'csv'), toCsv(benchmark));
  assert.equal(exportRun(benchmark, 'markdown'), toMarkdown(benchmark));
});

test('Markdown names the SIMD level the engine ran at; runs recorded before the level name AVX2 or nothing', () => {
  const engineLine = (env: Partial<typeof environment> & { simd?: 'scalar' | 'avx2' | 'avx512' }) =>
    toMarkdown({ ...generation, environment: { ...environment, ...env } })
      .split('\n')
      .find((l) => l.startsWith('- Engine:'));
  assert.equal(engineLine({ simd: 'avx512' }), '- Engine: 0.1.0, 2 threads, AMD EPYC (AVX-512), linux 6.1 x64, Node v20.20.2');
  assert.equal(engineLine({ simd: 'avx2' }), '- Engine: 0.1.0, 2 threads, AMD EPYC (AVX2), linux 6.1 x64, Node v20.20.2');
  assert.equal(engineLine({ simd: 'scalar' }), '- Engine: 0.1.0, 2 threads, AMD EPYC (no SIMD), linux 6.1 x64, Node v20.20.2');
  assert.equal(engineLine({ avx2: false }), '- Engine: 0.1.0, 2 threads, AMD EPYC, linux 6.1 x64, Node v20.20.2');
});
