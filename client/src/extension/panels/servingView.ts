// A serving benchmark's table and charts: per concurrency level, requests/s and output tokens/s (how much the
// server delivers) beside time to first token, time per output token and inter-token latency (what each user
// waits), medians with the 90th percentile below; the charts put the levels along x.
import type { EndpointRecord, LatencySummary, RunResult, ServingLevel } from '../../jobs';
import { barChart } from './charts';
import { escapeHtml } from './page';

interface Column {
  head: string;
  cell: (level: ServingLevel) => string;
  sub?: (level: ServingLevel) => string | undefined;
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const p90 = (pick: (l: ServingLevel) => LatencySummary) => (l: ServingLevel) => `p90 ${ms(pick(l).p90)}`;

export const SERVING_COLUMNS: Column[] = [
  { head: 'Concurrency', cell: (l) => String(l.concurrency) },
  { head: 'Requests', cell: (l) => String(l.completed), sub: (l) => (l.failed > 0 ? `${l.failed} failed` : undefined) },
  { head: 'Requests/s', cell: (l) => l.requestsPerSecond.toFixed(2) },
  { head: 'Output tokens/s', cell: (l) => l.outputTokensPerSecond.toFixed(1) },
  { head: 'TTFT (ms)', cell: (l) => ms(l.timeToFirstTokenMs.median), sub: p90((l) => l.timeToFirstTokenMs) },
  { head: 'TPOT (ms)', cell: (l) => ms(l.timePerOutputTokenMs.median), sub: p90((l) => l.timePerOutputTokenMs) },
  { head: 'ITL (ms)', cell: (l) => ms(l.interTokenLatencyMs.median), sub: p90((l) => l.interTokenLatencyMs) },
  { head: 'Latency (ms)', cell: (l) => ms(l.requestLatencyMs.median), sub: p90((l) => l.requestLatencyMs) },
  { head: 'Prompt tokens', cell: (l) => (l.meanPromptTokens === null ? '—' : l.meanPromptTokens.toFixed(0)) },
  { head: 'Output tokens', cell: (l) => l.meanOutputTokens.toFixed(1) },
];

/** "transformers serve at http://127.0.0.1:8000/v1 (model tiny-llama; tokens as the server counted them)". */
export function endpointLabel(endpoint: EndpointRecord): string {
  const counted = endpoint.tokenCount === 'usage' ? 'tokens as the server counted them' : 'tokens counted as streamed chunks';
  const server = endpoint.server ? `${endpoint.server} at ` : '';
  return `${server}${endpoint.url} (model ${endpoint.model}; ${counted}${endpoint.authenticated ? '; with an API key' : ''})`;
}

export function servingTable(levels: readonly ServingLevel[], caption: string, testId = 'serving-table'): string {
  const head = `<tr>${SERVING_COLUMNS.map((c) => `<th scope="col">${escapeHtml(c.head)}</th>`).join('')}</tr>`;
  const body = levels.map((level) => {
    const cells = SERVING_COLUMNS.map((c, i) => {
      const sub = c.sub?.(level);
      const text = `${escapeHtml(c.cell(level))}${sub === undefined ? '' : `<br><span class="range">${escapeHtml(sub)}</span>`}`;
      return i === 0 ? `<th scope="row">${text}</th>` : `<td class="number">${text}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  const note =
    'Median per level, 90th percentile below. TTFT: request sent to first text; TPOT: per output token after the first, ' +
    'per request; ITL: gaps between streamed chunks; one untimed warm-up request first.';
  const rows = `<thead>${head}</thead>\n<tbody>\n${body.join('\n')}\n</tbody>`;
  const table = `<table data-testid="${testId}">\n<caption>${escapeHtml(caption)}</caption>\n${rows}\n</table>`;
  return `<div class="table-wrap">\n${table}\n<p class="muted">${escapeHtml(note)}</p>\n</div>`;
}

const CHARTS: ReadonlyArray<{ testId: string; title: string; unit: string; value: (l: ServingLevel) => number }> = [
  { testId: 'chart-serving-throughput', title: 'Output tokens per second', unit: 'tokens/s', value: (l) => l.outputTokensPerSecond },
  { testId: 'chart-serving-ttft', title: 'Time to first token, median', unit: 'ms', value: (l) => l.timeToFirstTokenMs.median },
  { testId: 'chart-serving-tpot', title: 'Time per output token, median', unit: 'ms', value: (l) => l.timePerOutputTokenMs.median },
  { testId: 'chart-serving-requests', title: 'Requests per second', unit: 'requests/s', value: (l) => l.requestsPerSecond },
];

export function servingCharts(levels: readonly ServingLevel[]): string {
  const categories = levels.map((l) => `concurrency ${l.concurrency}`);
  const figures = CHARTS.map((c) => {
    const chart = barChart({ title: c.title, unit: c.unit, categories, series: [{ name: 'server', values: levels.map(c.value) }] });
    return `<figure data-testid="${c.testId}" aria-label="${escapeHtml(c.title)}">\n${chart}\n</figure>`;
  });
  return `<section class="charts" aria-label="Charts">\n${figures.join('\n')}\n</section>`;
}

export function servingBody(run: RunResult): string {
  const levels = run.serving ?? [];
  if (levels.length === 0 || !run.endpoint) return '<p data-testid="serving-empty">This serving run has no levels.</p>';
  return `${servingTable(levels, `${endpointLabel(run.endpoint)}`)}\n${servingCharts(levels)}`;
}
