// The benchmark panel's table and charts from a benchmark RunResult (the hand-made fixture follows the
// run-result schema, which this file checks), and rows with phases and token counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { benchmarkCharts, benchmarkTable, BenchmarkRowView, variantLabel } from '../../../client/src/extension/panels/benchmarkView';
import { bars, byTestId, FIXTURES, fixtureRun, tableCells, texts } from './panels-html';
import { runBody } from '../../../client/src/extension/panels/runView';
import { MIB } from '../../../native/model';

const root = path.join(__dirname, '..', '..', '..', '..');

test('the panel fixtures are valid run results', () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'run-result.schema.json'), 'utf8')));
  for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.run.json'))) {
    assert.equal(
      validate(JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'))),
      true,
      `${file}: ${JSON.stringify(validate.errors)}`,
    );
  }
});

const rows = fixtureRun('benchmark').rows ?? [];

test("the benchmark table has one row per measurement with the schema's columns, formatted", () => {
  const cells = tableCells(benchmarkTable(rows, 'caption'));
  assert.deepEqual(cells[0], [
    'Variant',
    'Method',
    'Kernel',
    'Phase',
    'Batch',
    'Tokens',
    'Load (s)',
    'Latency per step (ms)',
    'Throughput (tokens/s)',
    'Peak (MiB)',
    'Perplexity',
    'Delta',
  ]);
  assert.equal(cells.length, 1 + 16);
  assert.deepEqual(cells[1], ['fp16', 'fp16', 'fp16 matmul', 'forward', '1', '512', '0.021', '2.50', '400.0', '20.0', '57.778', '0.000']);
  // a row measured over several runs: the median, and the fastest–slowest on a second line
  assert.deepEqual(cells[8], [
    'gptq 4-bit g128',
    'gptq 4-bit g128 act-order',
    'gptq fused',
    'generate',
    '16',
    '30 + 30',
    '0.034',
    '3.20<br><span class="range">3.10–3.50</span>',
    '5000.0<br><span class="range">4571.4–5161.3</span>',
    '16.0',
    '59.100',
    '+1.322',
  ]);
  assert.deepEqual(cells[13], ['nf4', 'nf4 4-bit g64', 'bnb4 fused', 'forward', '1', '512', '0.040', '2.00', '500.0', '9.0', '—', '—']);
  const html = benchmarkTable(rows, 'c');
  assert.match(
    html,
    /^<div class="table-wrap">\n<table data-testid="benchmark-table">\n<caption>c<\/caption>/,
    'the table scrolls in its own box',
  );
  assert.equal(
    byTestId(html, 'benchmark-table-note').replace(/<[^>]+>/g, ''),
    'Latency per step: one token of each sequence in the batch (per token at batch 1); median of 3 timed runs after a warm-up run, fastest–slowest below.',
  );
});

test('rows of runs saved before variant labels and phases are named by method and have no phase columns', () => {
  const old: BenchmarkRowView[] = rows
    .filter((r) => r.phase === 'forward')
    .map(({ variant: _v, phase: _p, promptTokens: _t, newTokens: _n, ...rest }) => rest);
  assert.deepEqual([...new Set(old.map(variantLabel))], ['fp16', 'gptq 4-bit g128 act-order', 'awq 4-bit g128', 'nf4 4-bit g64']);
  assert.equal(variantLabel({ ...old[2], groupSize: -1, actOrder: false }), 'gptq 4-bit per-row');
  const head = tableCells(benchmarkTable(old, 'c'))[0];
  // every variant is named by its method here: no Method column to repeat it
  assert.deepEqual(head.slice(0, 4), ['Variant', 'Kernel', 'Batch', 'Load (s)']);
  assert.match(benchmarkTable(old, 'c'), /one timed run each\.<\/p>/);
  const latency = byTestId(benchmarkCharts(old), 'chart-latency');
  assert.deepEqual(
    [...latency.matchAll(/<h3>(.*?)<\/h3>/g)].map((m) => m[1]),
    ['Latency per step'],
  );
});

test("the runs' spread is a whisker on the bar, in its tooltip and in the chart's data table", () => {
  const generate = byTestId(benchmarkCharts(rows), 'chart-latency').split('<div class="chart">')[2];
  const whiskers = [...generate.matchAll(/<path class="range" d="([^"]+)"\/>/g)].map((m) => m[1]);
  assert.equal(whiskers.length, 1, 'only the row measured over several runs');
  assert.match(generate, /<title>gptq 4-bit g128, batch 16: 3\.20 ms \/ step \(runs 3\.10–3\.50\)<\/title>/);
  assert.ok(
    tableCells(generate).some((r) => r[0] === 'gptq 4-bit g128' && r.includes('3.20 (3.10–3.50)')),
    generate,
  );
});

test('one chart per measurement and measure: variants along x, a bar per batch size', () => {
  const html = benchmarkCharts(rows);
  const latency = byTestId(html, 'chart-latency');
  assert.deepEqual(
    [...latency.matchAll(/<h3>(.*?)<\/h3>/g)].map((m) => m[1]),
    ['Latency per step, forward, 512-token prompt', 'Latency per step, generate, 30 new tokens after a 30-token prompt'],
  );
  assert.equal((latency.match(/role="img"/g) ?? []).length, 2);
  const [forward, generate] = latency.split('<div class="chart">').slice(1);
  assert.deepEqual(texts(forward, 'category'), ['fp16', 'gptq 4-bit g128', 'awq 4-bit g128', 'nf4']);
  assert.deepEqual(
    bars(forward).map((b) => [b.class, b['data-value']]),
    [
      ['bar series-0', '2.5'],
      ['bar series-1', '0.5'],
      ['bar series-0', '1.25'],
      ['bar series-1', '0.4'],
      ['bar series-0', '1.5'],
      ['bar series-1', '0.45'],
      ['bar series-0', '2'],
      ['bar series-1', '0.6'],
    ],
  );
  // the axis tops at 2.5 (ticks 0…2.5 by 0.5): the fp16 batch-1 bar fills the 220-unit plot height
  assert.deepEqual(texts(forward, 'tick'), ['0', '0.5', '1', '1.5', '2', '2.5']);
  assert.deepEqual([bars(forward)[0].height, bars(forward)[7].height], ['220', '52.8']);
  assert.deepEqual(texts(generate, 'value'), ['20.00', '4.00', '10.00', '3.20', '12.00', '3.60', '16.00', '4.80']);
  assert.deepEqual(texts(generate, 'tick'), ['0', '5', '10', '15', '20']);
  const memory = byTestId(html, 'chart-memory').split('<div class="chart">')[1];
  assert.deepEqual(texts(memory, 'value'), ['20.0', '30.0', '8.0', '14.0', '8.5', '14.5', '9.0', '15.0']);
  assert.deepEqual(texts(memory, 'tick'), ['0', '10', '20', '30']);
  const throughput = byTestId(html, 'chart-throughput').split('<div class="chart">')[2];
  assert.deepEqual(texts(throughput, 'value'), ['50.0', '4000.0', '100.0', '5000.0', '83.3', '4444.4', '62.5', '3333.3']);
});

test('the perplexity chart shows each measured variant once with its delta to the baseline', () => {
  const ppl = byTestId(benchmarkCharts(rows), 'chart-perplexity');
  assert.deepEqual(texts(ppl, 'category'), ['fp16', 'gptq 4-bit g128', 'awq 4-bit g128']);
  assert.deepEqual(texts(ppl, 'value'), ['57.778 (baseline)', '59.100 (+1.322)', '58.900 (+1.122)']);
});

test('a hostile variant name is escaped in the table and the charts', () => {
  const hostile = rows.map((r) => ({ ...r, variant: '<script>alert(1)</script>', kernel: '<img onerror=x>' }));
  const html = benchmarkTable(hostile, '<b>') + benchmarkCharts(hostile);
  assert.doesNotMatch(html, /<script|<img|<b>/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('a measured benchmark run (tiny-llama, fp16 and GPTQ, batch 1 and 2) renders every row and proportional bars', () => {
  const measured = fixtureRun('measured-benchmark').rows ?? [];
  assert.ok(measured.length > 0);
  assert.equal(tableCells(benchmarkTable(measured, 'c')).length, 1 + measured.length);
  const html = benchmarkCharts(measured);
  const charts = [
    { id: 'chart-latency', value: (r: BenchmarkRowView) => r.perTokenLatencyMs },
    { id: 'chart-throughput', value: (r: BenchmarkRowView) => r.throughputTokensPerSecond },
    { id: 'chart-memory', value: (r: BenchmarkRowView) => r.peakMemoryBytes / MIB },
  ];
  const measurements = new Set(measured.map((r) => `${r.phase} ${r.promptTokens} ${r.newTokens}`));
  for (const { id, value } of charts) {
    const parts = byTestId(html, id).split('<div class="chart">').slice(1);
    assert.equal(parts.length, measurements.size, id);
    // every row is one bar, in the rows' order within its measurement
    assert.deepEqual(parts.flatMap((p) => bars(p).map((b) => Number(b['data-value']))).sort(), measured.map(value).sort(), id);
    // heights are value / axis top × the 220-unit plot height, to the 0.01 the coordinates are rounded to
    for (const part of parts) {
      const top = Number(texts(part, 'tick').at(-1));
      for (const b of bars(part))
        assert.ok(Math.abs(Number(b.height) - (Number(b['data-value']) / top) * 220) <= 0.005 + 1e-9, `${id}: ${JSON.stringify(b)}`);
    }
  }
});

test('a python-backend run on CUDA: the caption names the libraries and GPUs, reserved memory gets a column and a chart', () => {
  const run = fixtureRun('benchmark');
  const gb = 2 ** 30;
  const cuda = (run.rows ?? []).map((r, i) => ({ ...r, peakMemoryBytes: (10 + i) * gb, reservedMemoryBytes: (12 + i) * gb }));
  const onPython = {
    ...run,
    backend: {
      name: 'python' as const,
      interpreter: '/venv/bin/python',
      device: 'cuda',
      gpus: ['NVIDIA H200', 'NVIDIA H200'],
      libraries: { transformers: '5.23.0', torch: '2.11.0', gptqmodel: '7.7.0' },
    },
    rows: cuda,
  };
  const html = runBody({ run: onPython, runFile: 'r.json' });
  assert.match(
    html,
    /<caption>16 measurements on the python backend: Python: gptqmodel 7\.7\.0, torch 2\.11\.0, transformers 5\.23\.0 on cuda \(2 × NVIDIA H200\) \(\/venv\/bin\/python\)<\/caption>/,
  );
  const cells = tableCells(benchmarkTable(cuda, 'caption'));
  const reserved = cells[0]!.indexOf('Reserved (MiB)');
  assert.equal(reserved, cells[0]!.indexOf('Peak (MiB)') + 1);
  assert.deepEqual([cells[1]![reserved - 1], cells[1]![reserved]], ['10,240.0', '12,288.0']);
  const chart = byTestId(benchmarkCharts(cuda), 'chart-reserved');
  assert.match(chart, /Peak reserved GPU memory/);
  // a CPU run has neither
  assert.equal(tableCells(benchmarkTable(rows, 'caption'))[0]!.includes('Reserved (MiB)'), false);
  assert.equal(benchmarkCharts(rows).includes('chart-reserved'), false);
  assert.match(runBody({ run, runFile: 'r.json' }), /<caption>16 measurements on [^<]*\(\d+ threads\)<\/caption>/);
});
