// Every scalar a run measured, by name: the panels' catch-all, so a metric a job adds later still shows.
import type { RunResult } from '../../jobs';
import { escapeHtml } from './page';

/** `perplexityBefore` → `perplexity before`. */
export function metricLabel(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** Integers as they are, others with 4 significant digits (exponent form for very small or large values). */
export function metricValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

export function definedMetrics(metrics: RunResult['metrics']): Array<[string, number]> {
  return Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
}

export function metricsTable(run: RunResult, testId = 'metrics-table'): string {
  const rows = definedMetrics(run.metrics).map(
    ([name, value]) => `<tr><th scope="row">${escapeHtml(metricLabel(name))}</th><td class="number" data-metric="${escapeHtml(name)}">${escapeHtml(metricValue(value))}</td></tr>`,
  );
  if (rows.length === 0) return '';
  return `<table data-testid="${testId}">\n<caption>All metrics of the run</caption>\n<thead><tr><th scope="col">Metric</th><th scope="col">Value</th></tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}
