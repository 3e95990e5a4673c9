// The Quantize panel's parts: the final summary (the cells keep the ids tests and readers look up), buttons to
// benchmark or generate with the written checkpoint, and the live per-layer table.
import type { RunResult } from '../../jobs';
import { expertTokenTable } from './expertView';
import { quantizeSummary } from './quantizeSummary';
import { escapeHtml } from './page';

/** What a button asks the extension to do; the extension takes the arguments from the run, not the page. */
export type PanelAction = 'benchmark' | 'generate';
export const PANEL_ACTIONS: readonly PanelAction[] = ['benchmark', 'generate'];

export function summaryTable(run: RunResult): string {
  const rows = quantizeSummary(run).map(
    (r) =>
      `<tr><th scope="row">${escapeHtml(r.label)}</th><td id="${r.id}" class="number${r.tone ? ` ${r.tone}` : ''}">${escapeHtml(r.value)}</td></tr>`,
  );
  return `<table id="summary" data-testid="quantize-summary">\n<caption>Quantization summary</caption>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

export function actionButtons(run: RunResult): string {
  if (!run.output?.folder) return '';
  return `<div class="actions" role="group" aria-label="Use the quantized model">
<button type="button" data-action="benchmark" data-testid="action-benchmark">Benchmark</button>
<button type="button" data-action="generate" data-testid="action-generate">Generate</button>
</div>`;
}

/** The layers of a finished run, as the live table showed them (runs saved before layers were recorded: none). */
export function finishedLayerTable(run: RunResult): string {
  const layers = run.layers ?? [];
  if (layers.length === 0) return '';
  const rows = layers.map(
    (l, i) =>
      `<tr><th scope="row" class="number">${i + 1}/${layers.length}</th><td>${escapeHtml(l.name)}</td><td class="number">${l.seconds.toFixed(2)}</td><td class="number">${l.error.toExponential(3)}</td></tr>`,
  );
  const kind = layers[0].errorKind === 'output' ? "of each layer's output on the calibration data" : 'of the weights';
  return `<table data-testid="layer-table">
<caption>Layers (reconstruction error ${kind})</caption>
<thead><tr><th scope="col">Layer</th><th scope="col">Name</th><th scope="col">Time (s)</th><th scope="col">Reconstruction error</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

export function quantizeBody(run: RunResult): string {
  const sample =
    run.text === undefined
      ? ''
      : `\n<h2>Sample from the quantized model</h2>\n<pre data-testid="sample-text">${escapeHtml(run.text)}</pre>`;
  const layers = finishedLayerTable(run);
  const experts = expertTokenTable(run);
  return `${summaryTable(run)}\n${actionButtons(run)}${sample}${layers ? `\n${layers}` : ''}${experts ? `\n${experts}` : ''}`;
}

/** The live table the script appends rows to (one per finished layer). */
export function layerTable(): string {
  return `<table data-testid="layer-table">
<caption>Layers quantized so far</caption>
<thead><tr><th scope="col">Layer</th><th scope="col">Name</th><th scope="col">Time (s)</th><th scope="col">Reconstruction error</th></tr></thead>
<tbody id="layer-rows"></tbody>
</table>`;
}
