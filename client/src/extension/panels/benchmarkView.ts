// The benchmark table and its charts (latency per step, throughput and peak memory by variant and batch size,
// one chart per way of measuring: phase, prompt and new tokens; perplexity with its delta to the baseline),
// from a benchmark RunResult's rows.
import type { RunResult } from '../../jobs';
import { escapeHtml } from './page';
import { barChart, BarSeries } from './charts';
import { MIB } from '../../../../native/model';
import { DASH, fixedOr, mib, signed } from './format';

type SchemaRow = NonNullable<RunResult['rows']>[number];
type RowLabels = 'variant' | 'phase' | 'promptTokens' | 'newTokens';
/** A row as the schema describes it; runs saved before rows carried a variant label, a phase and token counts
 *  lack them, so they are optional here. */
export type BenchmarkRowView = Omit<SchemaRow, RowLabels> & Partial<Pick<SchemaRow, RowLabels>>;

/** "gptq 4-bit g128 act-order", "nf4 4-bit", "fp16": the label of a row without the job's own `variant`. */
export function methodLabel(row: BenchmarkRowView): string {
  const parts = [row.quantization];
  if (row.bits !== null && row.bits < 16) parts.push(`${row.bits}-bit`);
  if (row.groupSize !== null) parts.push(row.groupSize === -1 ? 'per-row' : `g${row.groupSize}`);
  if (row.actOrder) parts.push('act-order');
  return parts.join(' ');
}

/** The variant's label (unique in a run; the same variant in two runs has the same label). */
export function variantLabel(row: BenchmarkRowView): string {
  return row.variant ?? methodLabel(row);
}

/** Rows measured the same way (phase, prompt and new tokens): one chart each. "" for rows without a phase. */
export function measurementKey(row: BenchmarkRowView): string {
  return row.phase === undefined ? '' : `${row.phase}|${row.promptTokens ?? ''}|${row.newTokens ?? ''}`;
}

/** "forward, 512-token prompt" / "generate, 30 new tokens after a 30-token prompt". */
export function measurementLabel(row: BenchmarkRowView): string | undefined {
  if (row.phase === undefined) return undefined;
  const prompt = row.promptTokens === undefined ? '' : `${row.promptTokens}-token prompt`;
  if (row.phase === 'forward') return prompt ? `forward, ${prompt}` : 'forward';
  const fresh = row.newTokens === undefined ? '' : `${row.newTokens} new tokens`;
  return [`generate`, [fresh, prompt].filter((t) => t !== '').join(' after a ')].filter((t) => t !== '').join(', ');
}

/** Where a row sits among the others: variant + batch + measurement (compare matches rows by it). */
export function rowKey(row: BenchmarkRowView): string {
  return `${variantLabel(row)}|${row.batch}|${measurementKey(row)}`;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

export interface Column {
  head: string;
  cell: (row: BenchmarkRowView) => string;
  /** A second, muted line under the cell (the range of the timed runs). */
  sub?: (row: BenchmarkRowView) => string | undefined;
  number?: boolean;
}

const range = (r: readonly [number, number] | undefined, digits: number): string | undefined =>
  r === undefined ? undefined : `${r[0].toFixed(digits)}–${r[1].toFixed(digits)}`;

// Quantization, bits, group size and act-order are one "Method" cell (methodLabel), shown only where a variant's
// own name hides them (a label is the method unless the job names it), so the table fits a panel.
const VARIANT_COLUMN: Column = { head: 'Variant', cell: (r) => variantLabel(r) };
const METHOD_COLUMN: Column = { head: 'Method', cell: (r) => methodLabel(r) };
const KERNEL_COLUMN: Column = { head: 'Kernel', cell: (r) => r.kernel };
const PHASE_COLUMNS: Column[] = [{ head: 'Phase', cell: (r) => r.phase ?? DASH }];
const BATCH_COLUMN: Column = { head: 'Batch', cell: (r) => String(r.batch), number: true };
/** "512" for a forward pass, "30 + 512" (prompt + new) for a generation. */
const TOKEN_COLUMNS: Column[] = [
  {
    head: 'Tokens',
    number: true,
    cell: (r) =>
      r.promptTokens === undefined
        ? DASH
        : r.phase === 'generate' && r.newTokens !== undefined
          ? `${r.promptTokens} + ${r.newTokens}`
          : String(r.promptTokens),
  },
];
const MEASURE_COLUMNS: Column[] = [
  { head: 'Load (s)', cell: (r) => fixedOr(r.loadSeconds, 3), number: true },
  {
    head: 'Latency per step (ms)',
    cell: (r) => fixedOr(r.perTokenLatencyMs, 2),
    sub: (r) => range(r.perTokenLatencyMsRange, 2),
    number: true,
  },
  {
    head: 'Throughput (tokens/s)',
    cell: (r) => fixedOr(r.throughputTokensPerSecond, 1),
    sub: (r) => range(r.throughputTokensPerSecondRange, 1),
    number: true,
  },
  { head: 'Peak (MiB)', cell: (r) => mib(r.peakMemoryBytes), number: true },
];
/** The python backend on CUDA: torch's peak allocation is the peak column, the allocator's reservation this one. */
const RESERVED_COLUMN: Column = { head: 'Reserved (MiB)', cell: (r) => mib(r.reservedMemoryBytes), number: true };
const PERPLEXITY_COLUMNS: Column[] = [
  { head: 'Perplexity', cell: (r) => fixedOr(r.perplexity, 3), number: true },
  { head: 'Delta', cell: (r) => signed(r.perplexityDelta, 3), number: true },
];

const hasReserved = (rows: readonly BenchmarkRowView[]): boolean => rows.some((r) => r.reservedMemoryBytes !== undefined);

export function benchmarkColumns(rows: readonly BenchmarkRowView[]): Column[] {
  const hasPhase = rows.some((r) => r.phase !== undefined);
  const hasTokens = rows.some((r) => r.promptTokens !== undefined || r.newTokens !== undefined);
  const named = rows.some((r) => variantLabel(r) !== methodLabel(r));
  return [
    VARIANT_COLUMN,
    ...(named ? [METHOD_COLUMN] : []),
    KERNEL_COLUMN,
    ...(hasPhase ? PHASE_COLUMNS : []),
    BATCH_COLUMN,
    ...(hasTokens ? TOKEN_COLUMNS : []),
    ...MEASURE_COLUMNS,
    ...(hasReserved(rows) ? [RESERVED_COLUMN] : []),
    ...PERPLEXITY_COLUMNS,
  ];
}

/** What the latency and throughput figures are: per step, and the median of the runs with their range below. */
export function timingNote(rows: readonly BenchmarkRowView[]): string {
  const runs = unique(rows.map((r) => r.runs).filter((n): n is number => n !== undefined));
  const how =
    runs.length === 0 ? 'one timed run each' : `median of ${runs.join(' or ')} timed runs after a warm-up run, fastest–slowest below`;
  return `Latency per step: one token of each sequence in the batch (per token at batch 1); ${how}.`;
}

export function benchmarkTable(rows: readonly BenchmarkRowView[], caption: string, testId = 'benchmark-table'): string {
  const columns = benchmarkColumns(rows);
  const head = `<tr>${columns.map((c) => `<th scope="col">${escapeHtml(c.head)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => {
    const cells = columns.map((c, i) => {
      const sub = c.sub?.(row);
      const text = `${escapeHtml(c.cell(row))}${sub === undefined ? '' : `<br><span class="range">${escapeHtml(sub)}</span>`}`;
      return i === 0 ? `<th scope="row">${text}</th>` : `<td${c.number ? ' class="number"' : ''}>${text}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  const table = `<table data-testid="${testId}">\n<caption>${escapeHtml(caption)}</caption>\n<thead>${head}</thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
  return `<div class="table-wrap">\n${table}\n<p class="muted" data-testid="${testId}-note">${escapeHtml(timingNote(rows))}</p>\n</div>`;
}

interface Measure {
  testId: string;
  title: string;
  unit: string;
  value: (row: BenchmarkRowView) => number;
  /** The runs' lowest and highest, drawn as a whisker on the bar. */
  range?: (row: BenchmarkRowView) => readonly [number, number] | undefined;
  label: (value: number) => string;
  /** Drawn only when some row has the figure (undefined: always). */
  present?: (rows: readonly BenchmarkRowView[]) => boolean;
}

const MEASURES: Measure[] = [
  {
    testId: 'chart-latency',
    title: 'Latency per step',
    unit: 'ms / step',
    value: (r) => r.perTokenLatencyMs,
    range: (r) => r.perTokenLatencyMsRange,
    label: (v) => v.toFixed(2),
  },
  {
    testId: 'chart-throughput',
    title: 'Throughput',
    unit: 'tokens / s',
    value: (r) => r.throughputTokensPerSecond,
    range: (r) => r.throughputTokensPerSecondRange,
    label: (v) => v.toFixed(1),
  },
  { testId: 'chart-memory', title: 'Peak memory', unit: 'MiB', value: (r) => r.peakMemoryBytes / MIB, label: (v) => v.toFixed(1) },
  {
    testId: 'chart-reserved',
    title: 'Peak reserved GPU memory',
    unit: 'MiB',
    value: (r) => (r.reservedMemoryBytes ?? 0) / MIB,
    label: (v) => v.toFixed(1),
    present: hasReserved,
  },
];

/** The rows of one run; `name` tells runs apart when several share a chart ("A", "B"). */
export interface RowSet {
  name?: string;
  rows: readonly BenchmarkRowView[];
}

const seriesName = (set: RowSet, what: string): string => (set.name === undefined ? what : `${set.name} · ${what}`);

/** One grouped bar chart of a measure for the rows measured one way: variants along x, a bar per batch size
 *  (and per run, side by side, when there are several). */
function measureChart(measure: Measure, sets: readonly RowSet[], measurement: string): string {
  const inMeasurement = sets.map((set) => ({ ...set, rows: set.rows.filter((r) => measurementKey(r) === measurement) }));
  const all = inMeasurement.flatMap((set) => set.rows);
  const variants = unique(all.map(variantLabel));
  const batches = unique(all.map((r) => r.batch)).sort((a, b) => a - b);
  const series: BarSeries[] = batches.flatMap((batch) =>
    inMeasurement
      .filter((set) => set.rows.some((r) => r.batch === batch))
      .map((set) => ({
        name: seriesName(set, `batch ${batch}`),
        values: variants.map((v) => {
          const row = set.rows.find((r) => variantLabel(r) === v && r.batch === batch);
          return row === undefined ? null : measure.value(row);
        }),
        ranges: variants.map((v) => {
          const row = set.rows.find((r) => variantLabel(r) === v && r.batch === batch);
          return (row && measure.range?.(row)) ?? null;
        }),
      })),
  );
  const how = measurementLabel(all[0]);
  const title = how === undefined ? measure.title : `${measure.title}, ${how}`;
  return barChart({ title, unit: measure.unit, categories: variants, series, valueLabel: measure.label });
}

/** Perplexity per variant (the first row of a variant that has one), labelled with its delta to the baseline
 *  of its own run. */
function perplexityChart(sets: readonly RowSet[], testId: string): string | undefined {
  const measured = sets.map((set) => set.rows.filter((r) => r.perplexity !== null));
  const variants = unique(measured.flat().map(variantLabel));
  if (variants.length === 0) return undefined;
  // runs without any perplexity get no series (rather than a row of "n/a")
  const withPerplexity = sets.flatMap((set, s) => (measured[s].length === 0 ? [] : [{ set, rows: measured[s] }]));
  const firsts = withPerplexity.map(({ rows }) => variants.map((v) => rows.find((r) => variantLabel(r) === v)));
  const label = (value: number, s: number, c: number): string => {
    const delta = firsts[s][c]?.perplexityDelta ?? null;
    return delta === null ? value.toFixed(3) : delta === 0 ? `${value.toFixed(3)} (baseline)` : `${value.toFixed(3)} (${signed(delta, 3)})`;
  };
  const chart = barChart({
    title: 'Perplexity (delta to the baseline)',
    unit: 'perplexity',
    categories: variants,
    series: withPerplexity.map(({ set }, s) => ({ name: set.name ?? 'perplexity', values: firsts[s].map((r) => r?.perplexity ?? null) })),
    valueLabel: label,
  });
  return `<figure data-testid="${testId}" aria-label="Perplexity">\n${chart}\n</figure>`;
}

/** `perplexityNote`: shown instead of the perplexity chart when the runs' figures cannot be set side by side. */
function chartsOf(sets: readonly RowSet[], testIdPrefix: string, perplexityNote?: string): string {
  const all = sets.flatMap((set) => set.rows);
  if (all.length === 0) return '';
  const measurements = unique(all.map(measurementKey));
  const figures = MEASURES.filter((m) => m.present?.(all) ?? true).map(
    (m) =>
      `<figure data-testid="${testIdPrefix}${m.testId}" aria-label="${m.title}">\n${measurements.map((k) => measureChart(m, sets, k)).join('\n')}\n</figure>`,
  );
  const ppl =
    perplexityNote === undefined
      ? perplexityChart(sets, `${testIdPrefix}chart-perplexity`)
      : `<p data-testid="${testIdPrefix}chart-perplexity" class="why">${escapeHtml(perplexityNote)}</p>`;
  return `<section class="charts" aria-label="Charts">\n${[...figures, ...(ppl ? [ppl] : [])].join('\n')}\n</section>`;
}

export function benchmarkCharts(rows: readonly BenchmarkRowView[]): string {
  return chartsOf([{ rows }], '');
}

/** Two runs in the same charts: per variant, the runs' bars side by side for each batch size. */
export function comparisonCharts(a: RowSet, b: RowSet, perplexityNote?: string): string {
  return chartsOf([a, b], 'compare-', perplexityNote);
}
