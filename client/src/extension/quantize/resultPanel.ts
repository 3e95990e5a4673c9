// The "Quantize result" webview panel: a summary table of a finished quantize run. Static HTML (no scripts),
// every cell carries a stable id (#ppl-after, #output-folder, …).
import * as vscode from 'vscode';
import type { RunResult } from '../../jobs/runner';
import { buildPage, escapeHtml } from '../webview/page';
import { quantizeSummary } from './summary';

export const RESULT_PANEL_TYPE = 'quantstudio.quantizeResult';

export function showQuantizeResult(result: RunResult, runFile: string): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(RESULT_PANEL_TYPE, 'Quantize result', vscode.ViewColumn.Active, {
    enableScripts: false,
    localResourceRoots: [],
  });
  panel.webview.html = resultHtml(result, runFile, panel.webview.cspSource);
  return panel;
}

export function resultHtml(result: RunResult, runFile: string, cspSource: string): string {
  const rows = quantizeSummary(result)
    .map((r) => `<tr><th scope="row">${escapeHtml(r.label)}</th><td id="${r.id}" class="number${r.tone ? ` ${r.tone}` : ''}">${escapeHtml(r.value)}</td></tr>`)
    .join('\n');
  const body = `<main>
<h1>Quantize result</h1>
<table id="summary">
<caption>Finished ${escapeHtml(result.finishedAt)} on ${escapeHtml(result.environment.cpu)} (${result.environment.threads} threads)</caption>
${rows}
</table>
<p>Run saved as <code id="run-file">${escapeHtml(runFile)}</code></p>
</main>`;
  return buildPage({ title: 'Quantize result', body, cspSource });
}
