// The one way the editor runs a job: refuse in an untrusted workspace, run it in the job worker with a
// cancellable notification progress and a status bar item, copy the worker's log to the output channel,
// feed a live panel, report a failure (with "Show Log"), and save the finished run in the runs folder.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { type Job, type RunResult, runsFolder, saveRun, startJob } from '../../jobs';
import type { TokenGrant } from '../../../../native/model';
import { jobHubAccess } from '../hubToken';
import type { LiveRunPanel } from '../panels';
import { pickModel } from '../pick/pickModel';
import { readSettings, SETTINGS_SECTION } from '../settings';
import { failureNotice } from './failureNotice';
import { ProgressBridge } from './progressBridge';
import { JobStatusItem } from './statusBar';
import { ensureTrusted } from './trust';

/** What every job command is given. */
export interface JobCommandContext {
  extension: vscode.ExtensionContext;
  output: vscode.LogOutputChannel;
}

/** The optional argument of every job command, so panels and code lenses can start one directly. */
export interface JobCommandArgs {
  model?: string;
  config?: string;
  uri?: vscode.Uri;
}

/** Reads a command argument that came from a lens, a panel or the palette (where it is undefined or a Uri). */
export function jobCommandArgs(value: unknown): JobCommandArgs {
  if (value instanceof vscode.Uri) return { uri: value };
  if (typeof value !== 'object' || value === null) return {};
  const v = value as Record<string, unknown>;
  const uri =
    v.uri instanceof vscode.Uri
      ? v.uri
      : typeof v.uri === 'string'
        ? vscode.Uri.parse(v.uri)
        : isUriLike(v.uri)
          ? vscode.Uri.from(v.uri)
          : undefined;
  return {
    ...(typeof v.model === 'string' && v.model !== '' ? { model: v.model } : {}),
    ...(typeof v.config === 'string' && v.config !== '' ? { config: v.config } : {}),
    ...(uri ? { uri } : {}),
  };
}

/** A model job's start: the workspace trusted, the command's arguments, and the model they name or the user
 *  picks; undefined when the workspace is not trusted or the pick is dismissed. */
export async function trustedModelJob(
  ctx: JobCommandContext,
  arg: unknown,
  noun: string,
  pickTitle: string,
): Promise<{ args: JobCommandArgs; model: string } | undefined> {
  if (!ensureTrusted(noun)) return undefined;
  const args = jobCommandArgs(arg);
  const model = args.model ?? (await pickModel(ctx.extension, { title: pickTitle }));
  return model ? { args, model } : undefined;
}

/** A Uri that crossed JSON (a language server's lens argument): { scheme, path, ... }. */
function isUriLike(value: unknown): value is { scheme: string; path: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { scheme?: unknown }).scheme === 'string' &&
    typeof (value as { path?: unknown }).path === 'string'
  );
}

export interface JobRequest {
  job: Job;
  /** "Quantizing tiny-llama": the notification's title and the status bar label. */
  title: string;
  /** "Quantization": starts the cancel and failure messages. */
  noun: string;
  /** Where the run is saved: this folder's runs folder (the quantstudio.runsFolder setting). */
  workspaceDir: string;
  /** A panel fed with progress, tokens and the result. */
  live?: LiveRunPanel;
  /** A serving benchmark's API key and the endpoint the user stored it for. */
  serving?: TokenGrant;
}

export interface SavedRun {
  run: RunResult;
  /** Undefined when the run could not be saved (a warning said why). */
  runFile: string | undefined;
}

/** Runs the job; the saved run, or undefined after telling the user why there is none. */
export async function runJobWithProgress(ctx: JobCommandContext, request: JobRequest): Promise<SavedRun | undefined> {
  const { output } = ctx;
  if (!ensureTrusted(request.noun)) return undefined;
  const settings = readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION));
  const hub = await jobHubAccess(ctx.extension);
  const out = typeof request.job.options.out === 'string' ? request.job.options.out : undefined;
  const outputExisted = out !== undefined && fs.existsSync(out);
  const status = new JobStatusItem(request.title);
  const live = request.live;
  output.info(`${request.title}: ${request.job.kind} job on ${request.job.model}${out ? ` into ${out}` : ''}.`);
  let run: RunResult;
  try {
    run = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: request.title, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => {
          output.info('Cancel requested.');
          abort.abort();
        });
        const bridge = new ProgressBridge(request.job.kind);
        return startJob(request.job, {
          signal: abort.signal,
          threads: settings.engine.threads,
          hub,
          ...(request.serving ? { serving: request.serving } : {}),
          onStarted: (pid) => output.info(`Job worker started (pid ${pid}).`),
          onProgress: (p) => {
            const step = bridge.step(p);
            progress.report({ message: step.message, increment: step.increment });
            status.update(step.short);
            if (live && !live.disposed) live.progress(p);
          },
          onToken: (text) => {
            if (live && !live.disposed) live.token(text);
          },
          onLog: (level, text) => output[level](text),
        });
      },
    );
  } catch (error) {
    const notice = failureNotice(error, {
      noun: request.noun,
      ...(out ? { output: { folder: out, existedBefore: outputExisted, existsNow: fs.existsSync(out) } } : {}),
    });
    if (notice.severity === 'info') output.info(notice.log);
    else output.error(notice.log);
    if (live && !live.disposed) live.fail(notice.message);
    const show = notice.severity === 'info' ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
    const buttons = [...(notice.fix ? [notice.fix.title] : []), ...(notice.showLog ? ['Show Log'] : [])];
    void show(notice.message, ...buttons).then((choice) => {
      if (choice === 'Show Log') output.show(true);
      else if (notice.fix && choice === notice.fix.title) void vscode.commands.executeCommand(notice.fix.command);
    });
    return undefined;
  } finally {
    status.dispose();
  }
  const folder = runsFolder(request.workspaceDir, settings.runsFolder);
  let runFile: string | undefined;
  try {
    runFile = saveRun(folder, run);
    output.info(`Run saved as ${runFile}.`);
  } catch (error) {
    const message = `QuantStudio: the ${request.job.kind} run finished, but it could not be saved in ${folder}: ${error instanceof Error ? error.message : String(error)}`;
    output.error(message);
    void vscode.window.showWarningMessage(message);
  }
  if (live && !live.disposed) live.finish(run, runFile ?? 'not saved');
  return { run, runFile };
}

/** The folder runs of a file are saved under: its workspace folder, else the first one, else `fallback`. */
export function workspaceDirFor(uri: vscode.Uri | undefined, fallback: string): string {
  const folder = (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.fsPath ?? fallback;
}
