// The panels' public API: finished runs, live runs, comparisons, and the serializers that restore them after a
// window reload. Wire-up (activate): `context.subscriptions.push(registerPanels(context))`.
import * as vscode from 'vscode';
import type { JobProgress, RunResult } from '../../jobs';
import type { GenerateSettings } from './generateView';
import { COMPARE_PANEL_VIEW_TYPE, LiveRunPanel, openLive, registerSerializers, RUN_PANEL_VIEW_TYPE, showCompare, showRun } from './host';

export { COMPARE_PANEL_VIEW_TYPE, RUN_PANEL_VIEW_TYPE };
export type { GenerateSettings, JobProgress, LiveRunPanel };

/** Shows a finished run of any kind (quantize summary, benchmark table + charts, perplexity, generate text) in a
 *  panel; one panel per run file (re-showing the same file reveals it). `settings`: what a Generate run was asked
 *  for (the run file does not record the prompt or sampling settings). */
export function showRunPanel(_context: vscode.ExtensionContext, run: RunResult, runFile: string, settings?: GenerateSettings): void {
  showRun(run, runFile, settings);
}

/** Two runs side by side (same kind or not): metric table with the difference, benchmark rows matched by
 *  variant+batch+phase, charts of both. */
export function showComparePanel(
  _context: vscode.ExtensionContext,
  a: { run: RunResult; file: string },
  b: { run: RunResult; file: string },
): void {
  showCompare(a, b);
}

/** A panel that follows a running job live and turns into the run's panel when it finishes. `title` is the
 *  model's name (the panel reads "QuantStudio: <Kind> — <title>"); `settings` shows a Generate job's prompt and
 *  sampling settings and stays with the finished panel across reloads. */
export function openLiveRunPanel(_context: vscode.ExtensionContext, kind: RunResult['kind'], title: string, settings?: GenerateSettings): LiveRunPanel {
  return openLive({ kind, title, ...(settings ? { settings } : {}) });
}

/** Registers the serializer(s); call once from activate(). */
export function registerPanels(_context: vscode.ExtensionContext): vscode.Disposable {
  return registerSerializers();
}
