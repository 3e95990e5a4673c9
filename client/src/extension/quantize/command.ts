// "QuantStudio: Quantize Model…": runs the active (or a picked) *.quant.json job file in the job worker,
// with a cancellable notification progress, a status bar item and the worker's log in the output channel;
// a finished run is saved to the runs folder and shown in the Quantize result panel.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { jobFromJobFile } from '../../cli/quantizeJobFile';
import { JobCancelledError, JobCrashedError, JobError } from '../../jobs/errors';
import { startJob, type Job, type RunResult } from '../../jobs/runner';
import { runsFolder, saveRun } from '../../jobs/runStore';
import { readSettings, SETTINGS_SECTION } from '../settings';
import { ProgressBridge } from './progressBridge';
import { showQuantizeResult } from './resultPanel';
import { JobStatusItem } from './statusBar';

const JOB_FILE_GLOB = '**/*.quant.json';
export const CANCELLED_MESSAGE = 'Quantization cancelled; no output was written.';
const UNTRUSTED_MESSAGE =
  'QuantStudio: quantizing runs the native engine on this workspace\'s files, so it needs a trusted workspace. Trust it with "Workspaces: Manage Workspace Trust" and run the command again.';

export async function quantizeModel(output: vscode.LogOutputChannel): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage(UNTRUSTED_MESSAGE);
    return;
  }
  const jobFile = await chooseJobFile();
  if (!jobFile) return;
  const job = jobFromJobFile(jobFile.fsPath);
  if (typeof job === 'string') {
    output.error(job);
    void vscode.window.showErrorMessage(`QuantStudio: ${job}`);
    return;
  }
  const result = await runWithProgress(job, jobFile, output);
  if (!result) return;
  const workspace = vscode.workspace.getWorkspaceFolder(jobFile) ?? vscode.workspace.workspaceFolders?.[0];
  const folder = runsFolder(workspace?.uri.fsPath ?? path.dirname(jobFile.fsPath), readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION)).runsFolder);
  let runFile = '';
  try {
    runFile = saveRun(folder, result);
    output.info(`Run saved as ${runFile}.`);
  } catch (error) {
    const message = `QuantStudio: the model was quantized, but the run could not be saved in ${folder}: ${error instanceof Error ? error.message : String(error)}`;
    output.error(message);
    void vscode.window.showWarningMessage(message);
  }
  showQuantizeResult(result, runFile || 'not saved');
}

/** The active editor's job file (saved first if edited), else the only one in the workspace, else a pick. */
async function chooseJobFile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  if (active && active.uri.scheme === 'file' && active.fileName.endsWith('.quant.json')) {
    if (active.isDirty) await active.save();
    return active.uri;
  }
  const files = await vscode.workspace.findFiles(JOB_FILE_GLOB, '**/node_modules/**');
  if (files.length === 0) {
    void vscode.window.showErrorMessage('QuantStudio: no *.quant.json job file in this workspace. Create one (see examples/configs) and run the command again.');
    return undefined;
  }
  if (files.length === 1) return files[0];
  const picked = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'Quantize Model', placeHolder: 'Pick the job file (*.quant.json) to run' },
  );
  return picked?.uri;
}

async function runWithProgress(job: Job, jobFile: vscode.Uri, output: vscode.LogOutputChannel): Promise<RunResult | undefined> {
  const modelName = path.basename(job.model);
  const out = String(job.options.out);
  const outputExisted = fs.existsSync(out);
  const status = new JobStatusItem(`Quantizing ${modelName}`);
  output.info(`Quantizing ${job.model} with ${vscode.workspace.asRelativePath(jobFile)} into ${out}.`);
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Quantizing ${modelName}`, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => {
          output.info('Cancel requested.');
          abort.abort();
        });
        const bridge = new ProgressBridge();
        return startJob(job, {
          signal: abort.signal,
          onStarted: (pid) => output.info(`Job worker started (pid ${pid}).`),
          onProgress: (p) => {
            const step = bridge.step(p);
            progress.report({ message: step.message, increment: step.increment });
            status.update(step.short);
          },
          onLog: (level, text) => output[level](text),
        });
      },
    );
  } catch (error) {
    reportFailure(error, output, out, outputExisted);
    return undefined;
  } finally {
    status.dispose();
  }
}

function reportFailure(error: unknown, output: vscode.LogOutputChannel, out: string, outputExisted: boolean): void {
  if (error instanceof JobCancelledError) {
    // a cancel during the final evaluation comes after the output was written: say so rather than mislead
    const message = !outputExisted && fs.existsSync(out) ? `Quantization cancelled after the model was written to ${out}.` : CANCELLED_MESSAGE;
    output.info(message);
    void vscode.window.showInformationMessage(message);
  } else if (error instanceof JobCrashedError) {
    output.error(error.message);
    void vscode.window.showErrorMessage(`QuantStudio: quantization failed: ${error.message.split('\n')[0]}.`, 'Show Log').then((choice) => {
      if (choice === 'Show Log') output.show(true);
    });
  } else if (error instanceof JobError) {
    const where = error.where ? ` (${error.where})` : '';
    output.error(`${error.code}: ${error.message}${where}`);
    void vscode.window.showErrorMessage(`QuantStudio: quantization failed: ${error.message}${where}`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    output.error(message);
    void vscode.window.showErrorMessage(`QuantStudio: quantization failed: ${message}`);
  }
}
