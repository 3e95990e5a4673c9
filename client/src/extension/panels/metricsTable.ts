// Every scalar a run measured, by what it is and in its unit: the panels' catch-all, so a metric a job adds
// later still shows (under its own name).
import type { RunResult } from '../../jobs';
import { escapeHtml } from './page';
import { formatFigure, runFigures } from './figures';

export { metricLabel } from './figures';

/** Integers as they are, others with 4 significant digits (exponent form for very small or large values). */
export function metricValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

export function metricsTable(run: RunResult, testId = 'metrics-table'): string {
  const rows = runFigures(run).map(
    (f) =>
      `<tr><th scope="row">${escapeHtml(f.label)}</th><td class="number" data-metric="${escapeHtml(f.metric)}">${escapeHtml(formatFigure(f.value, f.unit))}</td></tr>`,
  );
  if (rows.length === 0) return '';
  return `<table data-testid="${testId}">\n<caption>All metrics of the run</caption>\n<thead><tr><th scope="col">Metric</th><th scope="col">Value</th></tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}
