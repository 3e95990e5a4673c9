// Two runs side by side: which runs, every figure both measured the same way with its difference (a cell
// left empty says why), benchmark rows matched by variant + batch + phase (with its prompt and new tokens),
// and charts with both runs' bars.
import { backendLabel, type RunResult, runDate, runLabel } from '../../jobs';
import { escapeHtml } from './page';
import { BenchmarkRowView, comparisonCharts, measurementLabel, rowKey, variantLabel } from './benchmarkView';
import { barChart } from './charts';
import { basisDifference, evaluationBasis, Figure, formatFigure, runFigures } from './figures';
import { MIB } from '../../../../native/model';
import { DASH, fixedOr, kindLabel, signed } from './format';
import { servingComparison } from './compareServing';
import { endpointLabel } from './servingView';

export interface CompareSide {
  run: RunResult;
  file: string;
}

export interface CompareInput {
  a: CompareSide & { label: string };
  b: CompareSide & { label: string };
}

/** Names for the two sides: the runs' labels ("benchmark · tiny-llama"), with the start time added when they
 *  are the same, and A/B only when that is the same too. */
export function compareInput(a: CompareSide, b: CompareSide): CompareInput {
  let [la, lb] = [runLabel(a.run), runLabel(b.run)];
  if (la === lb) [la, lb] = [`${la}, ${runDate(a.run.startedAt)}`, `${lb}, ${runDate(b.run.startedAt)}`];
  if (la === lb) [la, lb] = [`${la} (A)`, `${lb} (B)`];
  return { a: { ...a, label: la }, b: { ...b, label: lb } };
}

const cell = (text: string, number = true): string => `<td${number ? ' class="number"' : ''}>${escapeHtml(text)}</td>`;

function runsTable({ a, b }: CompareInput): string {
  const rows: Array<[string, string, string]> = [
    ['Kind', kindLabel(a.run.kind), kindLabel(b.run.kind)],
    ['Model', a.run.model.path ?? a.run.model.ref, b.run.model.path ?? b.run.model.ref],
    ['Method', String(a.run.config?.quant_method ?? DASH), String(b.run.config?.quant_method ?? DASH)],
    ['Backend', a.run.backend ? backendLabel(a.run.backend) : DASH, b.run.backend ? backendLabel(b.run.backend) : DASH],
    ...(a.run.endpoint || b.run.endpoint
      ? [
          ['Server', a.run.endpoint ? endpointLabel(a.run.endpoint) : DASH, b.run.endpoint ? endpointLabel(b.run.endpoint) : DASH] as [
            string,
            string,
            string,
          ],
        ]
      : []),
    ['Finished', runDate(a.run.finishedAt), runDate(b.run.finishedAt)],
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

/** Why a figure has no difference: missing on one side or measured differently; undefined when comparable. */
function whyNotCompared(fa: Figure | undefined, fb: Figure | undefined): string | undefined {
  if (fa === undefined) return 'not measured in A';
  if (fb === undefined) return 'not measured in B';
  const differs = basisDifference(fa.basis, fb.basis);
  return differs === undefined ? undefined : `not compared, measured differently (${differs})`;
}

export function metricsComparison({ a, b }: CompareInput): string {
  const [fa, fb] = [runFigures(a.run), runFigures(b.run)];
  const ids = [...new Set([...fa, ...fb].map((f) => f.id))];
  const rows = ids.map((id) => {
    const [xa, xb] = [fa.find((f) => f.id === id), fb.find((f) => f.id === id)];
    const { label, unit } = (xa ?? xb) as Figure;
    const values =
      cell(xa === undefined ? DASH : formatFigure(xa.value, unit)) + cell(xb === undefined ? DASH : formatFigure(xb.value, unit));
    const why = whyNotCompared(xa, xb);
    if (why !== undefined || xa === undefined || xb === undefined) {
      return `<tr><th scope="row">${escapeHtml(label)}</th>${values}<td colspan="2" class="why">${escapeHtml(why ?? '')}</td></tr>`;
    }
    const pct = percentChange(xa.value, xb.value);
    return `<tr><th scope="row">${escapeHtml(label)}</th>${values}${cell(formatFigure(xb.value - xa.value, unit, true))}${cell(pct === undefined ? DASH : `${signed(pct, 1)}%`)}</tr>`;
  });
  if (rows.length === 0) return '<p data-testid="compare-metrics">Neither run has metrics.</p>';
  return `<table data-testid="compare-metrics">
<caption>Figures measured the same way, with their difference (B − A)</caption>
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
  { head: 'Latency per step (ms)', value: (r) => r.perTokenLatencyMs, digits: 2 },
  { head: 'Throughput (tokens/s)', value: (r) => r.throughputTokensPerSecond, digits: 1 },
  { head: 'Peak memory (MiB)', value: (r) => r.peakMemoryBytes / MIB, digits: 1 },
];

export function benchmarkComparison(a: readonly BenchmarkRowView[], b: readonly BenchmarkRowView[]): string {
  const pairs = pairRows(a, b);
  const hasPhase = [...a, ...b].some((r) => r.phase !== undefined);
  const head = [
    '<th scope="col">Variant</th>',
    ...(hasPhase ? ['<th scope="col">Phase</th>'] : []),
    '<th scope="col">Batch</th>',
    ...MEASURES.flatMap((m) => [
      `<th scope="col">${m.head} A</th>`,
      `<th scope="col">${m.head} B</th>`,
      `<th scope="col">${m.head} B − A</th>`,
    ]),
  ].join('');
  const rows = pairs.map(({ a: ra, b: rb }) => {
    const any = (ra ?? rb) as BenchmarkRowView;
    const missing = ra === undefined ? 'not in A' : rb === undefined ? 'not in B' : undefined;
    const measures = MEASURES.flatMap((m) => {
      const [va, vb] = [ra && m.value(ra), rb && m.value(rb)];
      return [
        cell(fixedOr(va, m.digits)),
        cell(fixedOr(vb, m.digits)),
        cell(va !== undefined && vb !== undefined ? signed(vb - va, m.digits) : (missing ?? DASH)),
      ];
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

/** Why two runs' perplexities cannot be set side by side, or undefined when they were taken the same way. */
function evaluationDifference(a: RunResult, b: RunResult): string | undefined {
  const differs = basisDifference(evaluationBasis(a), evaluationBasis(b));
  return differs === undefined ? undefined : `No perplexity chart: the runs evaluated differently (${differs}).`;
}

function perplexityComparisonChart({ a, b }: CompareInput): string {
  const [pa, pb] = [headlinePerplexity(a.run), headlinePerplexity(b.run)];
  if (pa === undefined || pb === undefined) return '';
  const why = evaluationDifference(a.run, b.run);
  if (why !== undefined) return `<p data-testid="compare-chart-run-perplexity" class="why">${escapeHtml(why)}</p>`;
  const chart = barChart({
    title: 'Perplexity (delta to A)',
    unit: 'perplexity',
    categories: [`A: ${a.label}`, `B: ${b.label}`],
    series: [{ name: 'perplexity', values: [pa, pb] }],
    valueLabel: (v, _s, c) => (c === 0 ? v.toFixed(3) : `${v.toFixed(3)} (${signed(v - pa, 3)})`),
  });
  return `<figure data-testid="compare-chart-run-perplexity" aria-label="Perplexity">\n${chart}\n</figure>`;
}

export function compareBody(input: CompareInput): string {
  const [rowsA, rowsB] = [input.a.run.rows ?? [], input.b.run.rows ?? []];
  const bothBenchmarks = rowsA.length > 0 && rowsB.length > 0;
  const parts = [
    `<h1>Compare — ${escapeHtml(input.a.label)} vs ${escapeHtml(input.b.label)}</h1>`,
    runsTable(input),
    metricsComparison(input),
    // two benchmarks compare perplexity per variant in their charts; other runs by their headline figure
    bothBenchmarks ? '' : perplexityComparisonChart(input),
  ];
  if ((input.a.run.serving ?? []).length > 0 && (input.b.run.serving ?? []).length > 0)
    parts.push(servingComparison(input.a.run, input.b.run));
  if (rowsA.length > 0 || rowsB.length > 0) {
    const why = bothBenchmarks ? evaluationDifference(input.a.run, input.b.run) : undefined;
    parts.push(benchmarkComparison(rowsA, rowsB), comparisonCharts({ name: 'A', rows: rowsA }, { name: 'B', rows: rowsB }, why));
  }
  return `<main data-testid="compare-panel">\n${parts.filter((p) => p !== '').join('\n')}\n</main>`;
}
