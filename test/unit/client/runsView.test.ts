// The Runs view's entries from a real runs folder: saved runs newest first with label, key metric and
// date; files that are not runs as error entries naming the file; a missing or unreadable folder never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runNodes } from '../../../client/src/extension/runs/runNodes';
import { keyMetric, methodOf, runDate, runLabel } from '../../../client/src/jobs/runLabels';
import { saveRun } from '../../../client/src/jobs/runStore';
import type { BenchmarkRow, RunResult } from '../../../native/worker/protocol';

process.env.TZ = 'UTC'; // dates are shown in local time: pin the zone so the expectations are exact

function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-runs-view-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(kind: RunResult['kind'], startedAt: string, extra: Partial<RunResult> = {}): RunResult {
  return {
    schemaVersion: 1,
    id: `${kind}-${startedAt}`,
    kind,
    startedAt,
    finishedAt: startedAt,
    durationSeconds: 12.34,
    model: { ref: '/models/tiny-llama', path: '/models/tiny-llama' },
    environment: { engineVersion: '0.1.0', threads: 2, cpu: 'AMD EPYC', avx2: true, os: 'linux', node: 'v20' },
    metrics: {},
    ...extra,
  };
}

function row(quantization: string, batch: number, throughput: number): BenchmarkRow {
  return {
    variant: quantization,
    phase: 'generate',
    promptTokens: 30,
    newTokens: 30,
    quantization,
    bits: 4,
    groupSize: 128,
    actOrder: false,
    kernel: 'k',
    batch,
    loadSeconds: 0.1,
    perTokenLatencyMs: 1,
    throughputTokensPerSecond: throughput,
    peakMemoryBytes: 1,
    perplexity: null,
    perplexityDelta: null,
  };
}

test('entries: runs newest first with kind · model, key metric · date; then the broken files by name', () => {
  const folder = scratch();
  saveRun(folder, run('perplexity', '2026-11-20T09:00:00.000Z', { metrics: { perplexity: 57.7786, tokens: 933 } }));
  saveRun(
    folder,
    run('quantize', '2026-11-23T12:04:30.000Z', {
      config: { quant_method: 'gptq', bits: 4, group_size: 128 },
      metrics: { perplexityAfter: 58.123 },
      output: { folder: '/o', bytes: 3 * 1024 * 1024 },
    }),
  );
  saveRun(folder, run('generate', '2026-11-21T18:30:00.000Z', { metrics: { tokensPerSecond: 812.345, tokens: 64 } }));
  fs.writeFileSync(path.join(folder, 'zz-cut.json'), '{"schemaVersion": 1, "id"');
  fs.writeFileSync(path.join(folder, 'notes.json'), '{"hello": 1}');
  fs.writeFileSync(path.join(folder, 'readme.txt'), 'not a run, not json: not listed');

  const nodes = runNodes(folder);
  assert.deepEqual(
    nodes.map((n) => [n.type, n.label, n.description]),
    [
      ['run', 'quantize · tiny-llama', 'ppl 58.12 · 2026-11-23 12:04'],
      ['run', 'generate · tiny-llama', '812.3 tok/s · 2026-11-21 18:30'],
      ['run', 'perplexity · tiny-llama', 'ppl 57.78 · 2026-11-20 09:00'],
      ['broken', 'notes.json', 'not a readable run'],
      ['broken', 'zz-cut.json', 'not a readable run'],
    ],
  );
  assert.equal(nodes[3].tooltip, `${path.join(folder, 'notes.json')}: not a run result of schema version 1 (schemaVersion is undefined)`);
  assert.match(nodes[4].tooltip, /zz-cut\.json: not a readable run result \(/);
  const quantize = nodes[0];
  assert.equal(quantize.file, path.join(folder, '2026-11-23T12-04-30-000Z-quantize.json'));
  assert.deepEqual(quantize.tooltip.split('\n'), [
    'quantize of /models/tiny-llama',
    'Method: gptq 4-bit g128',
    'Started 2026-11-23 12:04, took 12.3 s',
    'ppl 58.12',
    'Output: /o (3.0 MiB)',
    'Engine 0.1.0, 2 threads, AMD EPYC',
    `File: ${quantize.file}`,
  ]);
});

test('a runs folder that does not exist yet is an empty view; one that is a file is one error entry', () => {
  const dir = scratch();
  assert.deepEqual(runNodes(path.join(dir, 'none')), []);
  const file = path.join(dir, 'runs');
  fs.writeFileSync(file, 'x');
  const nodes = runNodes(file);
  assert.deepEqual(
    nodes.map((n) => [n.type, n.label, n.description]),
    [['broken', 'runs', 'cannot read the runs folder']],
  );
  assert.match(nodes[0].tooltip, /ENOTDIR/);
});

test('key metrics per kind, and the duration when a run has none', () => {
  assert.equal(
    keyMetric(run('benchmark', '2026-11-23T00:00:00.000Z', { rows: [row('fp16', 1, 100), row('gptq', 1, 150.26), row('gptq', 16, 90)] })),
    '2 variants, up to 150.3 tok/s',
  );
  // variants are told apart by their label, not their method (two GPTQ variants are two)
  assert.equal(
    keyMetric(
      run('benchmark', '2026-11-23T00:00:00.000Z', { rows: [row('gptq', 1, 100), { ...row('gptq', 1, 120), variant: 'gptq act-order' }] }),
    ),
    '2 variants, up to 120.0 tok/s',
  );
  assert.equal(keyMetric(run('quantize', '2026-11-23T00:00:00.000Z', { output: { folder: '/o', bytes: 1536 } })), '1.5 KiB');
  assert.equal(keyMetric(run('generate', '2026-11-23T00:00:00.000Z')), '12.3 s');
  assert.equal(runLabel(run('benchmark', '2026-11-23T00:00:00.000Z', { model: { ref: 'org/some-model' } })), 'benchmark · some-model');
  const onPython = run('benchmark', '2026-11-23T00:00:00.000Z', { backend: { name: 'python', device: 'cuda', gpus: ['NVIDIA H200'] } });
  assert.equal(runLabel(onPython), 'benchmark · tiny-llama · python', 'a run of the python backend says so where runs are listed');
  assert.equal(methodOf({ quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' }), 'bitsandbytes nf4');
  assert.equal(methodOf({ quant_method: 'bitsandbytes', load_in_8bit: true }), 'bitsandbytes int8');
  assert.equal(methodOf(undefined), undefined);
  assert.equal(runDate('not a date'), 'not a date');
});
