// A quick pick over the saved runs, newest first, each with its kind, model, key metric and date.
import * as vscode from 'vscode';
import { listRuns, methodOf, runDescription, runLabel } from '../../jobs';
import type { RunResult } from '../../jobs';
import { currentRunsLocation } from './runsFolder';

export interface PickedRun {
  run: RunResult;
  file: string;
}

export async function pickRun(title: string, options: { exclude?: string } = {}): Promise<PickedRun | undefined> {
  const location = currentRunsLocation();
  if (!location) {
    void vscode.window.showErrorMessage('QuantStudio: open a folder first; runs are saved in its runs folder.');
    return undefined;
  }
  const { runs, broken } = listRuns(location.folder);
  const candidates = runs.filter((r) => r.file !== options.exclude);
  if (candidates.length === 0) {
    const note = broken.length > 0 ? ` (${broken.length} file(s) there are not readable runs)` : '';
    const none = options.exclude ? 'no other saved run' : 'no saved runs';
    void vscode.window.showInformationMessage(
      `QuantStudio: ${none} in ${location.folder}${note}. Run Quantize, Benchmark, Generate or Evaluate Perplexity first.`,
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((e) => ({
      label: runLabel(e.run),
      description: runDescription(e.run),
      detail: [methodOf(e.run.config), vscode.workspace.asRelativePath(e.file)].filter(Boolean).join(' · '),
      entry: e,
    })),
    { title, placeHolder: 'Pick a run (newest first)', matchOnDescription: true, matchOnDetail: true },
  );
  return picked ? { run: picked.entry.run, file: picked.entry.file } : undefined;
}
