// RunResult → CSV, JSON or Markdown text. Benchmark results export their table rows; other runs export
// their metrics as metric/value pairs. The column tables are data so every format shows the same columns.
import type { BenchmarkRow, RunResult } from '../../../native/worker/protocol';

export type ExportFormat = 'csv' | 'json' | 'markdown';
export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = { csv: '.csv', json: '.json', markdown: '.md' };

type Cell = string | number | boolean | null;

// variant + phase + token counts tell the rows apart (one variant has a forward and generate rows per batch)
const ROW_COLUMNS: ReadonlyArray<{ key: keyof BenchmarkRow; title: string }> = [
  { key: 'variant', title: 'Variant' },
  { key: 'phase', title: 'Phase' },
  { key: 'promptTokens', title: 'Prompt tokens' },
  { key: 'newTokens', title: 'New tokens' },
  { key: 'quantization', title: 'Quantization' },
  { key: 'bits', title: 'Bits' },
  { key: 'groupSize', title: 'Group size' },
  { key: 'actOrder', title: 'Act-order' },
  { key: 'kernel', title: 'Kernel' },
  { key: 'batch', title: 'Batch' },
  { key: 'loadSeconds', title: 'Load (s)' },
  { key: 'perTokenLatencyMs', title: 'Per-token latency (ms)' },
  { key: 'throughputTokensPerSecond', title: 'Throughput (tokens/s)' },
  { key: 'peakMemoryBytes', title: 'Peak memory (bytes)' },
  { key: 'perplexity', title: 'Perplexity' },
  { key: 'perplexityDelta', title: 'Perplexity delta' },
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
    return { header: ROW_COLUMNS.map((c) => c.title), body: result.rows.map((row) => ROW_COLUMNS.map((c) => row[c.key])) };
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
