// "QuantStudio: Quantize Model…": runs a *.quant.json job file (the argument's, the active editor's, the
// workspace's only one, or a picked one) in the job worker; with no job file yet, a method quick-pick
// writes one with the method's defaults and opens it for review. Also takes { model, config }: a config
// file in any supported shape quantizes that model into .quantstudio/models/<model>-<method>.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { DEFAULT_MAX_SHARD_BYTES, jobFromJobFile, quantizationConfigOf, quantizePreflight, readJsonObject } from '../../jobs';
import type { Job } from '../../jobs';
import { jobCommandArgs, runJobWithProgress, workspaceDirFor, type JobCommandArgs, type JobCommandContext } from '../jobs/runJob';
import { pythonInterpreter } from '../jobs/pythonInterpreter';
import { ensureTrusted } from '../jobs/trust';
import { quantizeJobSummary } from '../../../../native/model';
import { pickModel } from '../pick/pickModel';
import { readSettings, SETTINGS_SECTION } from '../settings';
import { openLiveRunPanel } from '../panels';
import { createJobFile } from './newJobFile';
import { isInsideWorkspace, realPath } from './outputPlace';

const JOB_FILE_GLOB = '**/*.quant.json';
const NEW_JOB_FILE = 'New job file…';

export async function quantizeModel(ctx: JobCommandContext, arg?: unknown): Promise<void> {
  if (!ensureTrusted('Quantization')) return;
  const args = jobCommandArgs(arg);
  const target = await chooseJob(ctx, args);
  if (!target) return;
  if (typeof target.job === 'string') {
    ctx.output.error(target.job);
    void vscode.window.showErrorMessage(`QuantStudio: ${target.job}`);
    return;
  }
  const job = target.job;
  const out = String(job.options.out);
  if (!(await confirmOutsideWorkspace(out))) return;
  if (fs.existsSync(out)) {
    const choice = await vscode.window.showWarningMessage(
      `${out} already exists.`,
      { modal: true, detail: 'Quantizing replaces it once the new checkpoint is complete.' },
      'Overwrite',
    );
    if (choice !== 'Overwrite') return;
    job.options.overwrite = true;
  }
  if (job.options.backend === 'python') {
    const python = await pythonInterpreter(readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION)).python, target.uri);
    job.options.python = python.path;
    ctx.output.info(`python backend: ${python.path} (from ${python.from})`);
  }
  const modelName = path.basename(job.model);
  if (!(await preflight(ctx, job, modelName, target.uri?.fsPath))) return;
  await runJobWithProgress(ctx, {
    job,
    title: `Quantizing ${modelName}`,
    noun: 'Quantization',
    workspaceDir: workspaceDirFor(target.uri, path.dirname(out)),
    live: openLiveRunPanel({ kind: 'quantize', title: modelName }),
  });
}

/** The job's predicted peak RSS and time in the output; a job whose memory does not fit is refused with the figures. */
async function preflight(ctx: JobCommandContext, job: Job, modelName: string, jobFile: string | undefined): Promise<boolean> {
  const threads = readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION)).engine.threads;
  const p = await quantizePreflight(job, threads, jobFile);
  if (!p) return true;
  ctx.output.info(`Quantizing ${modelName}, predicted: ${p.summary}.`);
  if (p.fit.fits || !p.checked) {
    void vscode.window.showInformationMessage(`QuantStudio: ${modelName}'s quantize job, predicted: ${quantizeJobSummary(p.estimate)}.`);
    return true;
  }
  ctx.output.error(p.fit.message ?? '');
  void vscode.window.showErrorMessage(`QuantStudio: not quantizing ${modelName}: ${p.fit.message ?? ''}`);
  return false;
}

interface Target {
  job: Job | string;
  /** The file the job came from (its workspace folder gets the run). */
  uri?: vscode.Uri;
}

async function chooseJob(ctx: JobCommandContext, args: JobCommandArgs): Promise<Target | undefined> {
  if (args.uri) return fromJobFile(args.uri);
  if (args.config?.endsWith('.quant.json')) return fromJobFile(vscode.Uri.file(args.config));
  if (args.config) return fromConfigFile(ctx, args.config, args.model);
  const jobFile = await chooseJobFile(ctx);
  return jobFile ? fromJobFile(jobFile) : undefined;
}

async function fromJobFile(uri: vscode.Uri): Promise<Target> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  return { job: jobFromJobFile(uri.fsPath), uri };
}

async function fromConfigFile(ctx: JobCommandContext, configFile: string, model: string | undefined): Promise<Target | undefined> {
  const value = readJsonObject(configFile);
  const config = typeof value === 'string' ? value : quantizationConfigOf(configFile, value);
  if (typeof config === 'string') return { job: config };
  const modelFolder = model ?? (await pickModel(ctx.extension, { title: 'Quantize Model: model', only: 'full-precision' }));
  if (!modelFolder) return undefined;
  const uri = vscode.Uri.file(configFile);
  const workspaceDir = workspaceDirFor(uri, path.dirname(configFile));
  const out = path.join(workspaceDir, '.quantstudio', 'models', `${path.basename(modelFolder)}-${String(config.quant_method)}`);
  const job: Job = {
    kind: 'quantize',
    model: modelFolder,
    config,
    options: { out, maxShardBytes: DEFAULT_MAX_SHARD_BYTES, evaluate: { before: true, after: true } },
  };
  return { job, uri };
}

/** A job file may name an output anywhere; one outside the open workspace folders is written only when the user agrees. */
async function confirmOutsideWorkspace(out: string): Promise<boolean> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  if (isInsideWorkspace(out, folders)) return true;
  const choice = await vscode.window.showWarningMessage(
    `Write the checkpoint to ${realPath(out)}?`,
    {
      modal: true,
      detail: 'The output folder is outside the workspace folders; a job file from a cloned repository can name any folder.',
    },
    'Write There',
  );
  return choice === 'Write There';
}

/** The active editor's job file, else the only one in the workspace, else a pick; none → write a new one. */
async function chooseJobFile(ctx: JobCommandContext): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  if (active && active.uri.scheme === 'file' && active.fileName.endsWith('.quant.json')) return active.uri;
  const files = await vscode.workspace.findFiles(JOB_FILE_GLOB, '**/node_modules/**');
  if (files.length === 1) return files[0];
  if (files.length === 0) {
    await createJobFile(ctx);
    return undefined;
  }
  const items: Array<vscode.QuickPickItem & { uri?: vscode.Uri }> = files.map((uri) => ({
    label: path.basename(uri.fsPath),
    description: vscode.workspace.asRelativePath(uri),
    uri,
  }));
  items.push({ label: NEW_JOB_FILE, description: 'pick a method and a model; writes a *.quant.json to review' });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Quantize Model',
    placeHolder: 'Pick the job file (*.quant.json) to run',
  });
  if (picked && !picked.uri) await createJobFile(ctx);
  return picked?.uri;
}
