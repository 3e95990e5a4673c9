// "QuantStudio: Check Quantized Checkpoint…": the checkpoint doctor on a folder (picked, or the Explorer's
// folder), its report in a read-only text editor, and "Write the corrected config" — the folder is written
// only after that yes, through the doctor's temp-file-and-rename writer.
import * as vscode from 'vscode';
import {
  correctedConfigs,
  doctorFolder,
  formatDoctorReport,
  formatModelError,
  ModelErrorException,
  writeCorrectedConfigs,
} from '../../../../native/model';
import type { DoctorReport } from '../../../../native/model';

const WRITE = 'Write the corrected config';

async function pickFolder(arg: unknown): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Check checkpoint',
    title: 'A quantized checkpoint folder',
  });
  return picked?.[0]?.fsPath;
}

async function examine(folder: string): Promise<DoctorReport> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Checking ${folder}` }, () =>
    doctorFolder(folder),
  );
}

async function show(report: DoctorReport, prefix = ''): Promise<void> {
  const document = await vscode.workspace.openTextDocument({ content: prefix + formatDoctorReport(report), language: 'plaintext' });
  await vscode.window.showTextDocument(document, { preview: true });
}

export async function checkpointDoctor(arg?: unknown): Promise<void> {
  const folder = await pickFolder(arg);
  if (!folder) return;
  try {
    const report = await examine(folder);
    await show(report);
    const corrected = await correctedConfigs(report);
    if (corrected.size === 0) return;
    const files = [...corrected.keys()].join(', ');
    const detail = 'Only the config files change; the weights are not touched.';
    const answer = await vscode.window.showWarningMessage(`The tensors disagree with ${files}. ${WRITE}?`, { modal: true, detail }, WRITE);
    if (answer !== WRITE) return;
    const written = await writeCorrectedConfigs(report);
    await show(await examine(folder), `wrote corrected ${written.join(', ')}\n`);
  } catch (error) {
    if (!(error instanceof ModelErrorException)) throw error;
    void vscode.window.showErrorMessage(`QuantStudio: ${formatModelError(error.error)}`);
  }
}
