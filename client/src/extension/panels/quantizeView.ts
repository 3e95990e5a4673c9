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

/** GPTQ modules whose Hessian needed more damping than the config's damp_percent (none: no table). */
export function raisedDampingTable(run: RunResult): string {
  const raised = (run.layers ?? []).flatMap((l) => l.raisedDamping ?? []);
  if (raised.length === 0) return '';
  const rows = raised.map(
    (d) => `<tr><th scope="row">${escapeHtml(d.module)}</th><td class="number worse">${d.dampPercent.toFixed(4)}</td></tr>`,
  );
  return `<table data-testid="raised-damping">
<caption>Damping raised until the Hessian factorised (damp_auto_increment, as GPTQModel 7.7 does): more calibration data usually avoids it</caption>
<thead><tr><th scope="col">Module</th><th scope="col">damp_percent used</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** A signRound run's tuning: each layer's output error at round-to-nearest and at the step kept (none: no table). */
export function signRoundTable(run: RunResult): string {
  const tuned = (run.layers ?? []).filter((l) => l.signRound);
  if (tuned.length === 0) return '';
  const rows = tuned.map(({ name, signRound: s }) => {
    const cells = [
      s!.startLoss.toExponential(3),
      s!.bestLoss.toExponential(3),
      `${((1 - s!.bestLoss / s!.startLoss) * 100).toFixed(1)} %`,
      `${s!.bestIteration}`,
    ];
    return `<tr><th scope="row">${escapeHtml(name)}</th>${cells.map((v) => `<td class="number">${v}</td>`).join('')}</tr>`;
  });
  const head = ['Layer', 'Round-to-nearest', 'Learned', 'Reduction', 'Step kept'];
  return `<table data-testid="sign-round">
<caption>Learned rounding (signRound): mean squared error of each layer's output against the full-precision layer's on a batch of calibration windows</caption>
<thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** A mixedPrecision run's measurement: each layer's divergence saved by the wider width, its cost and the choice. */
export function allocationTable(run: RunResult): string {
  const a = run.allocation;
  if (!a) return '';
  const rows = a.layers.map((l) => {
    const cells = [(l.gain * 1e3).toFixed(2), l.cost.toFixed(3)].map((v) => `<td class="number">${v}</td>`).join('');
    return `<tr><th scope="row">${escapeHtml(l.layer)}</th>${cells}<td>${l.widened ? a.wideBits : a.baseBits} bits</td></tr>`;
  });
  const caption =
    `Mixed precision: ${a.bitsPerWeight.toFixed(2)} bits per weight (budget ${a.target}), layers widened by KL divergence ` +
    `from the full-precision model saved per bit, measured on ${a.samples} calibration windows`;
  const head = ['Layer', 'Divergence saved (×1e-3 nats/token)', 'Bits per weight it costs', 'Width'];
  return `<table data-testid="allocation">
<caption>${caption}</caption>
<thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>
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
  const tables = [
    allocationTable(run),
    finishedLayerTable(run),
    signRoundTable(run),
    raisedDampingTable(run),
    expertTokenTable(run),
  ].filter((t) => t !== '');
  return `${summaryTable(run)}\n${actionButtons(run)}${sample}${tables.map((t) => `\n${t}`).join('')}`;
}

/** The live table the script appends rows to (one per finished layer). */
export function layerTable(): string {
  return `<table data-testid="layer-table">
<caption>Layers quantized so far</caption>
<thead><tr><th scope="col">Layer</th><th scope="col">Name</th><th scope="col">Time (s)</th><th scope="col">Reconstruction error</th></tr></thead>
<tbody id="layer-rows"></tbody>
</table>`;
}
