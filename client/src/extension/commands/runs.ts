// Open Run…, Compare Runs…, Export Run… and the Runs view's Delete: each takes the run it is invoked on
// (a Runs view entry, or { file }) or asks with a quick pick.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { EXPORT_EXTENSIONS, type ExportFormat, exportRun, readRun } from '../../jobs';
import { showComparePanel, showRunPanel } from '../panels';
import { pickRun, type PickedRun } from '../runs/pickRun';

/** The run a command was invoked on, read fresh from its file; undefined when none was given. */
function givenRun(arg: unknown): PickedRun | undefined | string {
  const file = typeof arg === 'object' && arg !== null ? (arg as { file?: unknown }).file : undefined;
  if (typeof file !== 'string') return undefined;
  try {
    return { run: readRun(file), file };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function runOrPick(arg: unknown, title: string): Promise<PickedRun | undefined> {
  const given = givenRun(arg);
  if (typeof given === 'string') {
    void vscode.window.showErrorMessage(`QuantStudio: ${given}`);
    return undefined;
  }
  return given ?? pickRun(title);
}

export async function openRun(arg?: unknown): Promise<void> {
  const picked = await runOrPick(arg, 'Open Run');
  if (picked) showRunPanel(picked.run, picked.file);
}

export async function compareRuns(arg?: unknown): Promise<void> {
  const first = await runOrPick(arg, 'Compare Runs: first run');
  if (!first) return;
  const second = await pickRun(`Compare ${path.basename(first.file)} with…`, { exclude: first.file });
  if (second) showComparePanel(first, second);
}

const FORMATS: ReadonlyArray<{ label: string; format: ExportFormat; filter: string }> = [
  { label: 'CSV', format: 'csv', filter: 'CSV' },
  { label: 'JSON', format: 'json', filter: 'JSON' },
  { label: 'Markdown', format: 'markdown', filter: 'Markdown' },
];

export async function exportRunCommand(arg?: unknown): Promise<void> {
  const picked = await runOrPick(arg, 'Export Run');
  if (!picked) return;
  const choice = await vscode.window.showQuickPick(
    FORMATS.map((f) => ({ label: f.label, description: `*${EXPORT_EXTENSIONS[f.format]}`, f })),
    { title: `Export ${path.basename(picked.file)} as` },
  );
  if (!choice) return;
  const ext = EXPORT_EXTENSIONS[choice.f.format];
  const defaultUri = vscode.Uri.file(picked.file.replace(/\.json$/, '') + ext);
  const target = await vscode.window.showSaveDialog({ title: 'Export Run', defaultUri, filters: { [choice.f.filter]: [ext.slice(1)] } });
  if (!target) return;
  try {
    fs.writeFileSync(target.fsPath, exportRun(picked.run, choice.f.format));
  } catch (error) {
    void vscode.window.showErrorMessage(
      `QuantStudio: could not write ${target.fsPath}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return;
  }
  const open = await vscode.window.showInformationMessage(`QuantStudio: exported to ${target.fsPath}.`, 'Open');
  if (open === 'Open') await vscode.window.showTextDocument(target);
}

/** Deletes a run file (broken ones too) after a modal confirmation. */
export async function deleteRun(arg?: unknown): Promise<boolean> {
  const file = typeof arg === 'object' && arg !== null ? (arg as { file?: unknown }).file : undefined;
  const target = typeof file === 'string' ? file : (await pickRun('Delete Run'))?.file;
  if (!target) return false;
  const confirm = await vscode.window.showWarningMessage(
    `Delete the run ${path.basename(target)}?`,
    { modal: true, detail: `${target} is deleted from disk.` },
    'Delete',
  );
  if (confirm !== 'Delete') return false;
  try {
    fs.rmSync(target, { force: true });
    return true;
  } catch (error) {
    void vscode.window.showErrorMessage(
      `QuantStudio: could not delete ${target}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return false;
  }
}
