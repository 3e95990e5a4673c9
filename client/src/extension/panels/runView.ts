// The body of a finished run's panel, whatever its kind: a header naming the model and the run file, the
// kind's own view, and every metric in a table.
import { backendLabel, type RunResult } from '../../jobs';
import { escapeHtml } from './page';
import { benchmarkCharts, benchmarkTable } from './benchmarkView';
import { kindLabel, localTime, modelName, panelTitle } from './format';
import { generateBody, GenerateSettings } from './generateView';
import { metricsTable } from './metricsTable';
import { perplexityBody } from './perplexityView';
import { quantizeBody } from './quantizeView';
import { servingBody } from './servingView';

export interface RunView {
  run: RunResult;
  /** Where the run is saved ("not saved" when saving failed). */
  runFile: string;
  /** Generate runs: what the command asked for (not in the run file). */
  settings?: GenerateSettings;
}

export function runTitle(run: RunResult): string {
  return panelTitle(kindLabel(run.kind), modelName(run));
}

function kindBody({ run, settings }: RunView): string {
  switch (run.kind) {
    case 'quantize':
      return quantizeBody(run);
    case 'benchmark': {
      const rows = run.rows ?? [];
      if (rows.length === 0) return '<p data-testid="benchmark-empty">This benchmark run has no rows.</p>';
      const where =
        run.backend?.name === 'python'
          ? `the python backend: ${backendLabel(run.backend)}`
          : `${run.environment.cpu} (${run.environment.threads} threads)`;
      const caption = `${rows.length} measurements on ${where}`;
      return `${benchmarkTable(rows, caption)}\n${benchmarkCharts(rows)}`;
    }
    case 'generate':
      return generateBody(run, settings);
    case 'perplexity':
      return perplexityBody(run);
    case 'serving':
      return servingBody(run);
  }
}

/** "engine 0.1.0", or the python backend's libraries and device. */
function ranOn(run: RunResult): string {
  if (run.endpoint) return `served by ${run.endpoint.server ?? 'the server'} at ${run.endpoint.url}`;
  return run.backend?.name === 'python' ? `python backend: ${backendLabel(run.backend)}` : `engine ${run.environment.engineVersion}`;
}

export function runHeader(run: RunResult, runFile: string): string {
  return `<h1>${escapeHtml(kindLabel(run.kind))} — ${escapeHtml(modelName(run))}</h1>
<p class="meta">Model <code data-testid="run-model">${escapeHtml(run.model.path ?? run.model.ref)}</code> · finished ${localTime(run.finishedAt)} in ${run.durationSeconds.toFixed(1)} s
${run.endpoint ? 'from' : 'on'} ${escapeHtml(run.environment.cpu)} (${run.environment.threads} threads) · ${escapeHtml(ranOn(run))}</p>
<p class="meta">Run saved as <code id="run-file" data-testid="run-file">${escapeHtml(runFile)}</code></p>`;
}

export function runBody(view: RunView): string {
  const metrics = metricsTable(view.run);
  const all = metrics === '' ? '' : `\n<details><summary>All metrics</summary>\n${metrics}\n</details>`;
  return `<main data-testid="run-panel" data-kind="${view.run.kind}">\n${runHeader(view.run, view.runFile)}\n${kindBody(view)}${all}\n</main>`;
}
