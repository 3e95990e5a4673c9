// The Quantize result panel is the run panel of a quantize run (panels/); this wrapper keeps the call the
// Quantize command makes until it calls the panels' API itself.
import type * as vscode from 'vscode';
import type { RunResult } from '../../jobs';
import { showRun } from '../panels/host';

export function showQuantizeResult(result: RunResult, runFile: string): vscode.WebviewPanel {
  return showRun(result, runFile);
}
