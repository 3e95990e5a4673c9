// The Compare panel: every metric with its difference, benchmark rows matched by variant + batch + measurement,
// charts holding both runs' bars, the headline perplexity chart, and the persisted pair of files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparePage, compareTitle } from '../../../client/src/extension/panels/pages';
import { compareInput, pairRows, percentChange } from '../../../client/src/extension/panels/compareView';
import type { RunResult } from '../../../client/src/jobs/runner';
import { runDate } from '../../../client/src/jobs/runLabels';
import { byTestId, fixtureRun, tableCells, texts, unescape } from './panels-html';

const ctx = { cspSource: 'vscode-webview://abc', nonce: 'N0nce' };

/** B: the gptq variant 20% faster, nf4 not measured, an int8 variant added, less peak memory overall. */
function benchmarkB(): RunResult {
  const a = fixtureRun('benchmark');
  const rows = (a.rows ?? [])
    .filter((r) => r.variant !== 'nf4')
    .map((r) => (r.variant === 'gptq 4-bit g128' ? { ...r, perTokenLatencyMs: r.perTokenLatencyMs * 0.8 } : r));
  rows.push({ ...rows[0], variant: 'int8', quantization: 'int8', bits: 8, groupSize: -1, kernel: 'bnb8 fused', perTokenLatencyMs: 1.75 });
  return {
    ...a,
    id: 'bench-2',
    model: { ...a.model, path: '/work/examples/tiny-llama-v2' },
    metrics: { loadSeconds: 0.021, peakRssBytes: 20971520 },
    rows,
  };
}

test('percent change is relative to A and undefined without a non-zero A', () => {
  assert.equal(percentChange(50, 51), 2);
  assert.equal(percentChange(-4, -2), 50);
  assert.equal(percentChange(0, 1), undefined);
  assert.equal(percentChange(undefined, 1), undefined);
});

test('benchmark rows pair by variant, batch and measurement; rows of one run only stay unpaired', () => {
  const a = fixtureRun('benchmark').rows ?? [];
  const b = benchmarkB().rows ?? [];
  const pairs = pairRows(a, b);
  assert.equal(pairs.length, 17);
  assert.deepEqual(pairs.map((p) => [p.a?.variant ?? null, p.b?.variant ?? null, p.a?.phase ?? p.b?.phase]).slice(12), [
    ['nf4', null, 'forward'],
    ['nf4', null, 'generate'],
    ['nf4', null, 'forward'],
    ['nf4', null, 'generate'],
    [null, 'int8', 'forward'],
  ]);
});

test('the compare page tabulates metrics with differences and the matched benchmark rows', () => {
  const input = compareInput({ run: fixtureRun('benchmark'), file: '/w/runs/a.json' }, { run: benchmarkB(), file: '/w/runs/b.json' });
  const html = comparePage(input, ctx);
  const title = 'QuantStudio: Compare — benchmark · tiny-llama vs benchmark · tiny-llama-v2';
  assert.equal(unescape(/<title>(.*?)<\/title>/.exec(html)?.[1] ?? ''), title);
  assert.equal(compareTitle(input), title);
  assert.deepEqual(tableCells(byTestId(html, 'compare-metrics')), [
    ['Metric', 'A', 'B', 'Difference', 'Change'],
    ['Load time', '21 ms', '21 ms', '0 ms', '0.0%'],
    ['Peak memory', '30.0 MiB', '20.0 MiB', '-10.0 MiB', '-33.3%'],
  ]);
  const rows = tableCells(byTestId(html, 'compare-benchmark'));
  assert.deepEqual(rows[0], [
    'Variant',
    'Phase',
    'Batch',
    'Latency per step (ms) A',
    'Latency per step (ms) B',
    'Latency per step (ms) B − A',
    'Throughput (tokens/s) A',
    'Throughput (tokens/s) B',
    'Throughput (tokens/s) B − A',
    'Peak memory (MiB) A',
    'Peak memory (MiB) B',
    'Peak memory (MiB) B − A',
  ]);
  assert.deepEqual(rows[5], [
    'gptq 4-bit g128',
    'forward, 512-token prompt',
    '1',
    '1.25',
    '1.00',
    '-0.25',
    '800.0',
    '800.0',
    '0.0',
    '8.0',
    '8.0',
    '0.0',
  ]);
  assert.deepEqual(rows[6], [
    'gptq 4-bit g128',
    'generate, 30 new tokens after a 30-token prompt',
    '1',
    '10.00',
    '8.00',
    '-2.00',
    '100.0',
    '100.0',
    '0.0',
    '10.0',
    '10.0',
    '0.0',
  ]);
  assert.deepEqual(rows[13], [
    'nf4',
    'forward, 512-token prompt',
    '1',
    '2.00',
    '—',
    'not in B',
    '500.0',
    '—',
    'not in B',
    '9.0',
    '—',
    'not in B',
  ]);
  assert.deepEqual(rows[17], [
    'int8',
    'forward, 512-token prompt',
    '1',
    '—',
    '1.75',
    'not in A',
    '—',
    '400.0',
    'not in A',
    '—',
    '20.0',
    'not in A',
  ]);
  const forward = byTestId(html, 'compare-chart-latency').split('<div class="chart">')[1];
  assert.deepEqual(tableCells(forward), [
    ['ms / step', 'A · batch 1', 'B · batch 1', 'A · batch 16', 'B · batch 16'],
    ['fp16', '2.50', '2.50', '0.50', '0.50'],
    ['gptq 4-bit g128', '1.25', '1.00', '0.40', '0.32'],
    ['awq 4-bit g128', '1.50', '1.50', '0.45', '0.45'],
    ['nf4', '2.00', 'n/a', '0.60', 'n/a'],
    ['int8', 'n/a', '1.75', 'n/a', 'n/a'],
  ]);
  assert.deepEqual(tableCells(byTestId(html, 'compare-chart-perplexity')).slice(1, 3), [
    ['fp16', '57.778 (baseline)', '57.778 (baseline)'],
    ['gptq 4-bit g128', '59.100 (+1.322)', '59.100 (+1.322)'],
  ]);
  for (const id of ['compare-chart-throughput', 'compare-chart-memory']) assert.ok(byTestId(html, id));
  assert.doesNotMatch(html, /compare-chart-run-perplexity/);
  assert.deepEqual(JSON.parse(unescape(/<body data-state="([^"]*)">/.exec(html)?.[1] ?? '')), {
    view: 'compare',
    a: '/w/runs/a.json',
    b: '/w/runs/b.json',
  });
});

test("a benchmark compared with a run without rows charts only the benchmark's bars", () => {
  const html = comparePage(compareInput({ run: fixtureRun('benchmark'), file: '/a' }, { run: fixtureRun('quantize'), file: '/q' }), ctx);
  const forward = byTestId(html, 'compare-chart-latency').split('<div class="chart">')[1];
  assert.deepEqual(tableCells(forward)[0], ['ms / step', 'A · batch 1', 'A · batch 16']);
  assert.deepEqual(tableCells(byTestId(html, 'compare-chart-perplexity'))[0], ['perplexity', 'A']);
  assert.deepEqual(tableCells(byTestId(html, 'compare-benchmark'))[1].slice(3, 6), ['2.50', '—', 'not in B']);
});

test('runs of different kinds compare only figures measured the same way, and say why a cell is empty', () => {
  const input = compareInput({ run: fixtureRun('quantize'), file: '/w/q.json' }, { run: fixtureRun('perplexity'), file: '/w/p.json' });
  const html = comparePage(input, ctx);
  assert.equal(compareTitle(input), 'QuantStudio: Compare — quantize · tiny-llama vs perplexity · tiny-llama');
  const metrics = tableCells(byTestId(html, 'compare-metrics'));
  // the sample's generation speed and the evaluation speed are different phases
  assert.deepEqual(
    metrics.find((r) => r[0] === 'Speed'),
    [
      'Speed',
      '120.5 tokens/s',
      '1,500.4 tokens/s',
      'not compared, measured differently (phase: generation in A, perplexity evaluation in B)',
    ],
  );
  assert.deepEqual(
    metrics.find((r) => r[0] === 'Perplexity'),
    ['Perplexity', '—', '57.778', 'not measured in A'],
  );
  assert.deepEqual(
    metrics.find((r) => r[0] === 'Tokens evaluated'),
    ['Tokens evaluated', '2,048', '2,048', '0', '0.0%'],
  );
  assert.deepEqual(metrics.find((r) => r[0] === 'Peak memory')?.slice(3), [
    'not compared, measured differently (over: the whole quantize job in A, the whole perplexity job in B)',
  ]);
  assert.doesNotMatch(byTestId(html, 'compare-metrics'), /peak rss bytes|Bytes/i);
  // a quantize job's sample and a generate job generate the same way: their speeds compare
  const generate = tableCells(
    byTestId(
      comparePage(compareInput({ run: fixtureRun('quantize'), file: '/q' }, { run: fixtureRun('generate'), file: '/g' }), ctx),
      'compare-metrics',
    ),
  );
  assert.deepEqual(
    generate.find((r) => r[0] === 'Speed'),
    ['Speed', '120.5 tokens/s', '95.3 tokens/s', '-25.3 tokens/s', '-21.0%'],
  );
  const chart = byTestId(html, 'compare-chart-run-perplexity');
  assert.deepEqual(texts(chart, 'category'), ['A: quantize · tiny-llama', 'B: perplexity · tiny-llama']);
  assert.deepEqual(texts(chart, 'value'), ['59.100', '57.778 (-1.322)']);
  assert.doesNotMatch(html, /compare-benchmark/);
  assert.deepEqual(tableCells(byTestId(html, 'compare-runs'))[1], ['Kind', 'Quantize', 'Perplexity']);
});

test('perplexities over different token counts are not set side by side', () => {
  const bench = fixtureRun('measured-benchmark');
  const quantize: RunResult = { ...fixtureRun('quantize'), metrics: { perplexityAfter: 69.394, evaluationTokens: 32768 } };
  const html = comparePage(compareInput({ run: bench, file: '/b' }, { run: quantize, file: '/q' }), ctx);
  const metrics = tableCells(byTestId(html, 'compare-metrics'));
  assert.deepEqual(
    metrics.find((r) => r[0] === 'Tokens evaluated'),
    ['Tokens evaluated', '4,096', '32,768', '+28,672', '+700.0%'],
  );
  assert.equal(
    unescape(byTestId(html, 'compare-chart-run-perplexity').replace(/<[^>]+>/g, '')),
    'No perplexity chart: the runs evaluated differently (tokens: 4,096 in A, 32,768 in B).',
  );
  assert.doesNotMatch(html, /\+3\.063/);
  // two benchmarks over different slices: the per-variant chart gives way to the reason
  const longer: RunResult = { ...bench, metrics: { ...bench.metrics, evaluationTokens: 32768 } };
  const both = comparePage(compareInput({ run: bench, file: '/b1' }, { run: longer, file: '/b2' }), ctx);
  assert.match(
    byTestId(both, 'compare-chart-perplexity'),
    /No perplexity chart: the runs evaluated differently \(tokens: 4,096 in A, 32,768 in B\)/,
  );
  assert.deepEqual(
    tableCells(byTestId(both, 'compare-metrics'))
      .find((r) => r[0] === 'Perplexity')
      ?.slice(3),
    ['not compared, measured differently (tokens: 4,096 in A, 32,768 in B)'],
  );
});

test('two runs with the same label are told apart by their start time, then by A and B', () => {
  const run = fixtureRun('generate');
  const later = { ...run, startedAt: '2026-11-24T09:30:00Z' };
  const input = compareInput({ run, file: '/a' }, { run: later, file: '/b' });
  assert.equal(input.a.label, `generate · tiny-llama-gptq, ${runDate(run.startedAt)}`);
  assert.equal(input.b.label, `generate · tiny-llama-gptq, ${runDate(later.startedAt)}`);
  assert.deepEqual(
    [compareInput({ run, file: '/a' }, { run, file: '/b' }).b.label],
    [`generate · tiny-llama-gptq, ${runDate(run.startedAt)} (B)`],
  );
});

test('two serving benchmarks compare level by level: throughput as B / A, latencies as B − A, both servers named', () => {
  // transformers serve on the demo model, without (A) and with (B) --continuous-batching, measured one after the other
  const [a, b] = [fixtureRun('serving'), fixtureRun('serving-cb')];
  const html = comparePage(compareInput({ run: a, file: '/w/a.json' }, { run: b, file: '/w/b.json' }), ctx);
  const cells = tableCells(byTestId(html, 'compare-serving'));
  assert.deepEqual(
    cells.slice(1).map((row) => row[0]),
    ['1', '2', '4'],
  );
  a.serving!.forEach((la, i) => {
    const lb = b.serving![i]!;
    const row = cells[i + 1]!;
    assert.deepEqual(row.slice(1, 4), [
      la.outputTokensPerSecond.toFixed(1),
      lb.outputTokensPerSecond.toFixed(1),
      `×${(lb.outputTokensPerSecond / la.outputTokensPerSecond).toFixed(2)}`,
    ]);
    const ttft = lb.timeToFirstTokenMs.median - la.timeToFirstTokenMs.median;
    assert.equal(row[9], `${ttft >= 0 ? '+' : ''}${ttft.toFixed(1)}`);
  });
  for (const id of ['compare-serving-throughput', 'compare-serving-ttft', 'compare-serving-tpot'])
    assert.deepEqual(tableCells(byTestId(html, id))[0]!.slice(1), ['A', 'B'], id);
  const server = tableCells(byTestId(html, 'compare-runs')).find((row) => row[0] === 'Server')!;
  assert.match(server[1]!, /^uvicorn at http:\/\/127\.0\.0\.1:8765\/v1/);
  assert.match(server[2]!, /^uvicorn at http:\/\/127\.0\.0\.1:8766\/v1/);
  assert.equal(html.includes('data-testid="compare-benchmark"'), false, 'no benchmark rows to match');
});
