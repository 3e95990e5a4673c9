// The advisor's panel: the ranked quantizations of one model for one budget, each prediction's basis beside it,
// a "Write job file" button per runnable row (the button names the row; the host writes the file), and "Evaluate",
// which quantizes the first picks and, once they ran, shows their perplexity on this model.
import { DEFAULT_ADVICE_SEQ, humanBytes, QUALITY_TABLE, QUALITY_TIE_PERCENT, signedFigure } from '../../../../native/model';
import type { Advice, AdviceRequest } from '../../../../native/model';
import { EVALUATE_TOKENS, runnablePicks } from '../../jobs';
import type { Evaluated } from '../../jobs';
import { buildPage, escapeHtml } from './page';
import { PANEL_SCRIPT } from './script';
import { fixedOr, panelTitle } from './format';

export interface AdviceInput {
  model: string;
  request: AdviceRequest;
  rows: readonly Advice[];
  /** Perplexities the panel's "Evaluate" measured (fp16 first), once it has run. */
  evaluated?: readonly Evaluated[];
}

/** A row's button: "write:<candidate id>"; the page's other button is EVALUATE_ACTION. */
export const WRITE_ACTION_PREFIX = 'write:';
export const EVALUATE_ACTION = 'evaluate';
/** How many of the first runnable picks "Evaluate" quantizes. */
export const EVALUATE_COUNT = 3;

export function adviceTitle(model: string): string {
  return panelTitle('Recommend a Quantization', model);
}

function basisList(a: Advice): string {
  const lines: Array<[string, string]> = [
    ['memory', a.basis.memory],
    ['quality', a.basis.quality],
    ['speed', a.basis.speed],
    ...(a.basis.deployment ? ([['deployment', a.basis.deployment]] as Array<[string, string]>) : []),
  ];
  return `<details><summary>basis</summary><ul>${lines.map(([k, v]) => `<li><b>${k}</b>: ${escapeHtml(v)}</li>`).join('')}</ul></details>`;
}

function row(a: Advice, target: boolean): string {
  const button = a.row.config
    ? `<button type="button" data-action="${WRITE_ACTION_PREFIX}${escapeHtml(a.id)}" data-testid="write-${escapeHtml(a.id)}">Write job file</button>`
    : '';
  const kernel = a.kernel ? `${a.kernel.kernel} (${a.kernel.path})` : a.row.config ? 'no rule' : 'as stored';
  const cells = [
    `<th scope="row" class="number">${a.rank}</th>`,
    `<td>${escapeHtml(a.label)}</td>`,
    `<td class="number">${a.bits}</td>`,
    `<td class="number">${escapeHtml(humanBytes(a.estimate.peakBytes))}</td>`,
    `<td class="${a.fits ? 'better' : 'worse'}">${a.fits ? 'yes' : 'no'}</td>`,
    `<td class="number">${signedFigure(a.perplexityDeltaPercent)} %</td>`,
    `<td class="number">${fixedOr(a.tokensPerSecond, 0)}</td>`,
    ...(target ? [`<td class="${a.kernel?.path === 'refused' ? 'worse' : ''}">${escapeHtml(kernel)}</td>`] : []),
    `<td>${escapeHtml(a.why)}${basisList(a)}</td>`,
    `<td>${button}</td>`,
  ];
  return `<tr data-testid="advice-${escapeHtml(a.id)}">${cells.join('')}</tr>`;
}

function evaluatedTable(input: AdviceInput): string {
  const picks = runnablePicks(input.rows).slice(0, EVALUATE_COUNT);
  if (picks.length === 0) return '';
  const button = `<div class="actions"><button type="button" data-action="${EVALUATE_ACTION}" data-testid="action-evaluate">Evaluate the first ${picks.length}</button>
quantizes ${escapeHtml(picks.map((p) => p.label).join(', '))} on this model and measures a short perplexity (${EVALUATE_TOKENS} WikiText-2 test tokens) of each and of the model as it is</div>`;
  if (!input.evaluated) return button;
  const label = (id: string): string => (id === 'fp16' ? 'the model as it is' : (input.rows.find((a) => a.id === id)?.label ?? id));
  const rows = input.evaluated.map(
    (e) => `<tr><th scope="row">${escapeHtml(label(e.id))}</th><td class="number">${fixedOr(e.perplexity, 4)}</td></tr>`,
  );
  return `<table data-testid="advice-evaluated">
<caption>Measured on this model: perplexity over ${EVALUATE_TOKENS} WikiText-2 test tokens</caption>
<thead><tr><th scope="col">Quantization</th><th scope="col">Perplexity</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

export function advicePage(input: AdviceInput, context: { cspSource: string }): string {
  const { request, rows } = input;
  const target = request.target !== undefined;
  const head = [
    '#',
    'Method',
    'Bits',
    'Peak memory',
    'Fits',
    'Perplexity vs fp16',
    'Decode tokens/s ≤',
    ...(target ? [request.target!] : []),
    'Why here',
    '',
  ]
    .map((h) => `<th scope="col">${escapeHtml(h)}</th>`)
    .join('');
  const body = `<h1>${escapeHtml(adviceTitle(input.model))}</h1>
<p data-testid="advice-budget">${escapeHtml(request.budgetLabel)} · ${escapeHtml(humanBytes(request.budgetBytes))} · context ${request.seq ?? DEFAULT_ADVICE_SEQ} tokens</p>
<table data-testid="advice-table">
<caption>Ranked: fits (and the target serves it) first, then measured quality (differences under ${QUALITY_TIE_PERCENT} % tie), then the speed bound</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${rows.map((a) => row(a, target)).join('\n')}
</tbody>
</table>
${evaluatedTable(input)}
<p data-testid="advice-quality-note">Quality is perplexity measured by the engine on the demo model (${escapeHtml(QUALITY_TABLE.model)}, 5M parameters;
native/model/quantQuality.json): it orders the methods, it does not predict this model's perplexity. Memory is the estimate at this
model's tensor shapes; the speed bound is the device's memory bandwidth over the bytes a decode step reads.</p>`;
  return buildPage({ title: adviceTitle(input.model), body, cspSource: context.cspSource, script: PANEL_SCRIPT });
}
