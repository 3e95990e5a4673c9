// Two runs side by side: which runs, every metric with its difference, benchmark rows matched by
// variant + batch + phase (with its prompt and new tokens), and charts with both runs' bars.
import type { RunResult } from '../../jobs';
import { escapeHtml } from './page';
import { BenchmarkRowView, comparisonCharts, measurementLabel, rowKey, variantLabel } from './benchmarkView';
import { barChart } from './charts';
import { DASH, fixedOr, kindLabel, MIB, modelName, signed } from './format';
import { metricLabel, metricValue } from './metricsTable';

export interface CompareSide {
  run: RunResult;
  file: string;
}

export interface CompareInput {
  a: CompareSide & { label: string };
  b: CompareSide & { label: string };
}

/** Names for the two sides: the models' names, with A/B added when they are the same model. */
export function compareInput(a: CompareSide, b: CompareSide): CompareInput {
  const [na, nb] = [modelName(a.run), modelName(b.run)];
  return na === nb ? { a: { ...a, label: `${na} (A)` }, b: { ...b, label: `${nb} (B)` } } : { a: { ...a, label: na }, b: { ...b, label: nb } };
}

const cell = (text: string, number = true): string => `<td${number ? ' class="number"' : ''}>${escapeHtml(text)}</td>`;

function runsTable({ a, b }: CompareInput): string {
  const rows: Array<[string, string, string]> = [
    ['Kind', kindLabel(a.run.kind), kindLabel(b.run.kind)],
    ['Model', a.run.model.path ?? a.run.model.ref, b.run.model.path ?? b.run.model.ref],
    ['Method', String(a.run.config?.quant_method ?? DASH), String(b.run.config?.quant_method ?? DASH)],
    ['Finished', a.run.finishedAt, b.run.finishedAt],
    ['Run file', a.file, b.file],
  ];
  const body = rows.map(([label, va, vb]) => `<tr><th scope="row">${label}</th>${cell(va, false)}${cell(vb, false)}</tr>`);
  return `<table data-testid="compare-runs">\n<caption>The two runs</caption>\n<thead><tr><th scope="col"></th><th scope="col">A: ${escapeHtml(a.label)}</th><th scope="col">B: ${escapeHtml(b.label)}</th></tr></thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The change from A to B in percent of A; undefined when A is 0 or either is missing. */
export function percentChange(a: number | undefined, b: number | undefined): number | undefined {
  return finite(a) && finite(b) && a !== 0 ? (100 * (b - a)) / Math.abs(a) : undefined;
}

export function metricsComparison({ a, b }: CompareInput): string {
  const names = [...new Set([...Object.keys(a.run.metrics), ...Object.keys(b.run.metrics)])];
  const rows = names.flatMap((name) => {
    const [va, vb] = [a.run.metrics[name], b.run.metrics[name]];
    if (!finite(va) && !finite(vb)) return [];
    const diff = finite(va) && finite(vb) ? vb - va : undefined;
    const diffText = diff === undefined ? DASH : `${diff > 0 ? '+' : ''}${metricValue(diff)}`;
    const pct = percentChange(va, vb);
    return [`<tr><th scope="row">${escapeHtml(metricLabel(name))}</th>${cell(finite(va) ? metricValue(va) : DASH)}${cell(finite(vb) ? metricValue(vb) : DASH)}${cell(diffText)}${cell(pct === undefined ? DASH : `${signed(pct, 1)}%`)}</tr>`];
  });
  if (rows.length === 0) return '<p data-testid="compare-metrics">Neither run has metrics.</p>';
  return `<table data-testid="compare-metrics">
<caption>Metrics (difference = B − A)</caption>
<thead><tr><th scope="col">Metric</th><th scope="col">A</th><th scope="col">B</th><th scope="col">Difference</th><th scope="col">Change</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

interface Paired {
  key: string;
  a?: BenchmarkRowView;
  b?: BenchmarkRowView;
}

/** Rows of both runs paired by variant + batch + phase and token counts, in A's order, then B's rows A lacks. */
export function pairRows(a: readonly BenchmarkRowView[], b: readonly BenchmarkRowView[]): Paired[] {
  const pairs = new Map<string, Paired>();
  for (const row of a) if (!pairs.has(rowKey(row))) pairs.set(rowKey(row), { key: rowKey(row), a: row });
  for (const row of b) {
    const pair = pairs.get(rowKey(row));
    if (pair === undefined) pairs.set(rowKey(row), { key: rowKey(row), b: row });
    else pair.b ??= row;
  }
  return [...pairs.values()];
}

const MEASURES: Array<{ head: string; value: (r: BenchmarkRowView) => number; digits: number }> = [
  { head: 'Latency (ms/token)', value: (r) => r.perTokenLatencyMs, digits: 2 },
  { head: 'Throughput (tokens/s)', value: (r) => r.throughputTokensPerSecond, digits: 1 },
  { head: 'Peak memory (MiB)', value: (r) => r.peakMemoryBytes / MIB, digits: 1 },
];

export function benchmarkComparison(a: readonly BenchmarkRowView[], b: readonly BenchmarkRowView[]): string {
  const pairs = pairRows(a, b);
  const hasPhase = [...a, ...b].some((r) => r.phase !== undefined);
  const head = [
    '<th scope="col">Variant</th>', ...(hasPhase ? ['<th scope="col">Phase</th>'] : []), '<th scope="col">Batch</th>',
    ...MEASURES.flatMap((m) => [`<th scope="col">${m.head} A</th>`, `<th scope="col">${m.head} B</th>`, `<th scope="col">${m.head} B − A</th>`]),
  ].join('');
  const rows = pairs.map(({ a: ra, b: rb }) => {
    const any = (ra ?? rb) as BenchmarkRowView;
    const measures = MEASURES.flatMap((m) => {
      const [va, vb] = [ra && m.value(ra), rb && m.value(rb)];
      return [cell(fixedOr(va, m.digits)), cell(fixedOr(vb, m.digits)), cell(va !== undefined && vb !== undefined ? signed(vb - va, m.digits) : DASH)];
    });
    return `<tr><th scope="row">${escapeHtml(variantLabel(any))}</th>${hasPhase ? cell(measurementLabel(any) ?? DASH, false) : ''}${cell(String(any.batch))}${measures.join('')}</tr>`;
  });
  return `<table data-testid="compare-benchmark">
<caption>Benchmark rows matched by variant, batch and phase (${DASH} = not measured in that run)</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** The headline perplexity of a run: a perplexity job's, or a quantize job's after quantization. */
export function headlinePerplexity(run: RunResult): number | undefined {
  const m = run.metrics;
  return finite(m.perplexity) ? m.perplexity : finite(m.perplexityAfter) ? m.perplexityAfter : undefined;
}

function perplexityComparisonChart({ a, b }: CompareInput): string {
  const [pa, pb] = [headlinePerplexity(a.run), headlinePerplexity(b.run)];
  if (pa === undefined || pb === undefined) return '';
  const chart = barChart({
    title: 'Perplexity (delta to A)', unit: 'perplexity', categories: [`A: ${a.label}`, `B: ${b.label}`],
    series: [{ name: 'perplexity', values: [pa, pb] }],
    valueLabel: (v, _s, c) => (c === 0 ? v.toFixed(3) : `${v.toFixed(3)} (${signed(v - pa, 3)})`),
  });
  return `<figure data-testid="compare-chart-run-perplexity" aria-label="Perplexity">\n${chart}\n</figure>`;
}

export function compareBody(input: CompareInput): string {
  const [rowsA, rowsB] = [input.a.run.rows ?? [], input.b.run.rows ?? []];
  const bothBenchmarks = rowsA.length > 0 && rowsB.length > 0;
  const parts = [
    `<h1>Compare — ${escapeHtml(input.a.label)} vs ${escapeHtml(input.b.label)}</h1>`, runsTable(input), metricsComparison(input),
    // two benchmarks compare perplexity per variant in their charts; other runs by their headline figure
    bothBenchmarks ? '' : perplexityComparisonChart(input),
  ];
  if (rowsA.length > 0 || rowsB.length > 0) {
    parts.push(benchmarkComparison(rowsA, rowsB), comparisonCharts({ name: 'A', rows: rowsA }, { name: 'B', rows: rowsB }));
  }
  return `<main data-testid="compare-panel">\n${parts.filter((p) => p !== '').join('\n')}\n</main>`;
}
