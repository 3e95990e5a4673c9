// Whole webview documents for each panel state: a finished run, a run file that cannot be read, a live job,
// a live job the window reload stopped, and two runs compared. Pure: the vscode side only sets them.
import type { RunResult } from '../../jobs';
import { buildPage, escapeHtml } from './page';
import { compareBody, CompareInput } from './compareView';
import { kindLabel, panelTitle } from './format';
import { GenerateSettings, promptSection, settingsTable, streamSection } from './generateView';
import { layerTable } from './quantizeView';
import { runBody, runTitle, RunView } from './runView';
import { PANEL_SCRIPT } from './script';
import { PanelState } from './state';
import { PANEL_CSS } from './style';

export interface PageContext {
  cspSource: string;
  nonce?: string;
}

function page(title: string, body: string, state: PanelState, ctx: PageContext): string {
  return buildPage({ title, body, cspSource: ctx.cspSource, nonce: ctx.nonce, css: PANEL_CSS, script: PANEL_SCRIPT, state });
}

export function runPage(view: RunView, ctx: PageContext): string {
  const state: PanelState = { view: 'run', runFile: view.runFile, ...(view.settings ? { settings: view.settings } : {}) };
  return page(runTitle(view.run), runBody(view), state, ctx);
}

/** A restored panel whose run file is gone or unreadable: says which file and what to do. */
export function missingRunPage(runFile: string, reason: string, ctx: PageContext, settings?: GenerateSettings): string {
  const body = `<main data-testid="run-missing">
<h1>Run not available</h1>
<p role="alert">${escapeHtml(reason)}</p>
<p>This panel showed <code data-testid="run-file">${escapeHtml(runFile)}</code>. Open another run with “QuantStudio: Open Run…”, or run the job again.</p>
</main>`;
  return page('QuantStudio: run not available', body, { view: 'run', runFile, ...(settings ? { settings } : {}) }, ctx);
}

export interface LiveView {
  kind: RunResult['kind'];
  /** The model's name (usually its folder's base name). */
  title: string;
  settings?: GenerateSettings;
}

export function liveTitle(view: LiveView): string {
  return panelTitle(kindLabel(view.kind), view.title);
}

export function livePage(view: LiveView, ctx: PageContext): string {
  const parts = [
    `<h1>${escapeHtml(kindLabel(view.kind))} — ${escapeHtml(view.title)} <span id="live-status" data-testid="live-status" class="muted">(running)</span></h1>`,
    `<p id="live-phase" data-testid="live-phase" role="status" aria-live="polite">Starting…</p>`,
    `<progress id="live-progress" data-testid="live-progress" max="1" value="0" aria-label="Progress of the current phase"></progress>`,
    `<p id="live-error" data-testid="live-error" role="alert" hidden></p>`,
  ];
  if (view.kind === 'quantize') parts.push(layerTable());
  if (view.kind === 'generate') parts.push(promptSection(view.settings), streamSection('', '—', '0'), settingsTable(view.settings));
  const state: PanelState = { view: 'live', kind: view.kind, title: view.title, ...(view.settings ? { settings: view.settings } : {}) };
  return page(liveTitle(view), `<main data-testid="live-panel" data-kind="${view.kind}">\n${parts.join('\n')}\n</main>`, state, ctx);
}

/** A live panel restored after a window reload: the job failed before, or the reload ended its worker. */
export function interruptedLivePage(view: LiveView & { failed?: string }, ctx: PageContext): string {
  const why =
    view.failed === undefined
      ? 'The window was reloaded while this job ran, which stopped it; no result was saved. Run it again.'
      : `This job failed: ${view.failed}`;
  const body = `<main data-testid="live-interrupted">
<h1>${escapeHtml(kindLabel(view.kind))} — ${escapeHtml(view.title)}</h1>
<p role="alert">${escapeHtml(why)}</p>
</main>`;
  const state: PanelState = {
    view: 'live',
    kind: view.kind,
    title: view.title,
    ...(view.settings ? { settings: view.settings } : {}),
    ...(view.failed === undefined ? {} : { failed: view.failed }),
  };
  return page(liveTitle(view), body, state, ctx);
}

export function comparePage(input: CompareInput, ctx: PageContext): string {
  return page(compareTitle(input), compareBody(input), { view: 'compare', a: input.a.file, b: input.b.file }, ctx);
}

export { runTitle };
export function compareTitle(input: CompareInput): string {
  return panelTitle('Compare', `${input.a.label} vs ${input.b.label}`);
}

/** A restored compare panel with a run file that is gone or unreadable. */
export function missingComparePage(a: string, b: string, reasons: readonly string[], ctx: PageContext): string {
  const body = `<main data-testid="run-missing">
<h1>Comparison not available</h1>
${reasons.map((r) => `<p role="alert">${escapeHtml(r)}</p>`).join('\n')}
<p>This panel compared <code>${escapeHtml(a)}</code> with <code>${escapeHtml(b)}</code>. Pick two runs again with “QuantStudio: Compare Runs…”.</p>
</main>`;
  return page('QuantStudio: comparison not available', body, { view: 'compare', a, b }, ctx);
}
