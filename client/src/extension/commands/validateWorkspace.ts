// "QuantStudio: Validate Quantization Configs in Workspace": opens every config file in the workspace
// (without showing it) so the language server diagnoses it, waits for the diagnostics, and summarises.
import * as vscode from 'vscode';
import { CONFIG_FILE_GLOBS, EXCLUDED_FOLDERS, PYTHON_CONFIG_CALLS } from '../documents';

const DIAGNOSTIC_SOURCE = 'quantstudio';
const MAX_FILES = 2000;
/** How long to wait for the server's first diagnostics of the opened files before summarising. */
const SETTLE_TIMEOUT_MS = 10_000;

async function findConfigFiles(token: vscode.CancellationToken): Promise<vscode.Uri[]> {
  const json = await vscode.workspace.findFiles(`{${CONFIG_FILE_GLOBS.join(',')}}`, EXCLUDED_FOLDERS, MAX_FILES, token);
  const python: vscode.Uri[] = [];
  for (const uri of await vscode.workspace.findFiles('**/*.py', EXCLUDED_FOLDERS, MAX_FILES, token)) {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    if (PYTHON_CONFIG_CALLS.test(text)) python.push(uri);
  }
  return [...json, ...python];
}

/** Resolves once every uri has had a diagnostics change (the server publishes on open), or after the timeout. */
function waitForDiagnostics(uris: vscode.Uri[]): { ready: Promise<void>; listen: vscode.Disposable } {
  const pending = new Set(uris.map((u) => u.toString()));
  let done: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    done = resolve;
    setTimeout(resolve, SETTLE_TIMEOUT_MS);
  });
  const listen = vscode.languages.onDidChangeDiagnostics((e) => {
    for (const uri of e.uris) pending.delete(uri.toString());
    if (pending.size === 0) done();
  });
  if (pending.size === 0) done();
  return { ready, listen };
}

export interface ValidationSummary {
  files: number;
  errors: number;
  warnings: number;
  filesWithProblems: number;
}

export async function validateWorkspace(output: vscode.LogOutputChannel): Promise<ValidationSummary | undefined> {
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showWarningMessage('QuantStudio: open a folder first; there is no workspace to validate.');
    return undefined;
  }
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'QuantStudio: validating quantization configs', cancellable: true },
    async (_progress, token) => {
      const uris = await findConfigFiles(token);
      const alreadyOpen = new Set(vscode.workspace.textDocuments.map((d) => d.uri.toString()));
      const { ready, listen } = waitForDiagnostics(uris.filter((u) => !alreadyOpen.has(u.toString())));
      try {
        for (const uri of uris) {
          if (token.isCancellationRequested) break;
          await vscode.workspace.openTextDocument(uri);
        }
        await ready;
      } finally {
        listen.dispose();
      }
      const summary: ValidationSummary = { files: uris.length, errors: 0, warnings: 0, filesWithProblems: 0 };
      for (const uri of uris) {
        const ours = vscode.languages.getDiagnostics(uri).filter((d) => d.source === DIAGNOSTIC_SOURCE);
        summary.errors += ours.filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length;
        summary.warnings += ours.filter((d) => d.severity === vscode.DiagnosticSeverity.Warning).length;
        if (ours.length > 0) summary.filesWithProblems++;
      }
      const text = `QuantStudio: checked ${summary.files} config file(s): ${summary.errors} error(s), ${summary.warnings} warning(s) in ${summary.filesWithProblems} file(s).`;
      output.info(text);
      if (summary.errors + summary.warnings > 0) {
        void vscode.window.showWarningMessage(text, 'Show Problems').then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.actions.view.problems');
        });
      } else {
        void vscode.window.showInformationMessage(text);
      }
      return summary;
    },
  );
}
