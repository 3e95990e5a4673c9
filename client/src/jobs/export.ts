// RunResult → CSV, JSON or Markdown text. Benchmark results export their table rows; other runs export
// their metrics as metric/value pairs. The column tables are data so every format shows the same columns.
import type { BenchmarkRow, RunResult } from '../../../native/worker/protocol';

export type ExportFormat = 'csv' | 'json' | 'markdown';
export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = { csv: '.csv', json: '.json', markdown: '.md' };

type Cell = string | number | boolean | null;

// variant + phase + token counts tell the rows apart (one variant has a forward and generate rows per batch)
const ROW_COLUMNS: ReadonlyArray<{ title: string; cell: (row: BenchmarkRow) => Cell }> = [
  { title: 'Variant', cell: (r) => r.variant },
  { title: 'Phase', cell: (r) => r.phase },
  { title: 'Prompt tokens', cell: (r) => r.promptTokens },
  { title: 'New tokens', cell: (r) => r.newTokens },
  { title: 'Quantization', cell: (r) => r.quantization },
  { title: 'Bits', cell: (r) => r.bits },
  { title: 'Group size', cell: (r) => r.groupSize },
  { title: 'Act-order', cell: (r) => r.actOrder },
  { title: 'Kernel', cell: (r) => r.kernel },
  { title: 'Batch', cell: (r) => r.batch },
  { title: 'Load (s)', cell: (r) => r.loadSeconds },
  // per step: one token of each of the batch's sequences (per token only at batch 1); the median run, then the range
  { title: 'Latency per step (ms)', cell: (r) => r.perTokenLatencyMs },
  { title: 'Latency min (ms)', cell: (r) => r.perTokenLatencyMsRange?.[0] ?? null },
  { title: 'Latency max (ms)', cell: (r) => r.perTokenLatencyMsRange?.[1] ?? null },
  { title: 'Throughput (tokens/s)', cell: (r) => r.throughputTokensPerSecond },
  { title: 'Throughput min (tokens/s)', cell: (r) => r.throughputTokensPerSecondRange?.[0] ?? null },
  { title: 'Throughput max (tokens/s)', cell: (r) => r.throughputTokensPerSecondRange?.[1] ?? null },
  { title: 'Timed runs', cell: (r) => r.runs ?? null },
  { title: 'Peak memory (bytes)', cell: (r) => r.peakMemoryBytes },
  { title: 'Perplexity', cell: (r) => r.perplexity },
  { title: 'Perplexity delta', cell: (r) => r.perplexityDelta },
];

/** Numbers keep full precision in CSV/JSON; Markdown rounds to 4 significant digits for reading. */
function readable(v: Cell): string {
  if (v === null) return '—';
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(4)));
  return String(v);
}

function csvCell(v: Cell): string {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function table(result: RunResult): { header: string[]; body: Cell[][] } {
  if (result.rows && result.rows.length > 0) {
    return { header: ROW_COLUMNS.map((c) => c.title), body: result.rows.map((row) => ROW_COLUMNS.map((c) => c.cell(row))) };
  }
  const body = Object.entries(result.metrics)
    .filter((e): e is [string, number] => e[1] !== undefined)
    .map(([name, value]): Cell[] => [name, value]);
  return { header: ['Metric', 'Value'], body };
}

export function toCsv(result: RunResult): string {
  const { header, body } = table(result);
  return [header, ...body].map((line) => line.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export function toJson(result: RunResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

function mdCell(v: Cell): string {
  return readable(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

const SIMD_LABELS = { scalar: 'no SIMD', avx2: 'AVX2', avx512: 'AVX-512' } as const;

/** The kernels' SIMD level as a note after the CPU; older runs recorded only whether AVX2 was used. */
function simdLabel(env: RunResult['environment']): string {
  if (env.simd) return ` (${SIMD_LABELS[env.simd]})`;
  return env.avx2 ? ' (AVX2)' : '';
}

export function toMarkdown(result: RunResult): string {
  const { header, body } = table(result);
  const env = result.environment;
  const lines = [
    `# ${result.kind}: ${result.model.ref}`,
    '',
    `- Started: ${result.startedAt}`,
    `- Duration: ${readable(result.durationSeconds)} s`,
    `- Engine: ${env.engineVersion}, ${env.threads} threads, ${env.cpu}${simdLabel(env)}, ${env.os}, Node ${env.node}`,
  ];
  if (result.output) lines.push(`- Output: ${result.output.folder} (${result.output.bytes} bytes)`);
  lines.push('', `| ${header.join(' | ')} |`, `|${header.map(() => ' --- |').join('')}`);
  for (const row of body) lines.push(`| ${row.map(mdCell).join(' | ')} |`);
  if (result.text !== undefined) lines.push('', '## Text', '', '```text', result.text, '```');
  return `${lines.join('\n')}\n`;
}

export function exportRun(result: RunResult, format: ExportFormat): string {
  return format === 'csv' ? toCsv(result) : format === 'json' ? toJson(result) : toMarkdown(result);
}
