// "QuantStudio: Benchmark…": one model, the fp16 baseline plus the picked variants (quantized checkpoint folders,
// run as they are, and quantization config files — *.quant.json, quantize_config.json, quant_config.json —
// quantized for the run; a checkpoint's own config file counts as the checkpoint), at the
// batch sizes of quantstudio.benchmark.batchSizes. From a job file's lens ({ uri }) it runs the job file as
// `quantstudio benchmark <file>` does (its config and its `benchmark` section); from a panel
// ({ model, config? }) it runs without asking.
import * as path from 'path';
import * as vscode from 'vscode';
import { benchmarkJobFromJobFile, quantizedCheckpointOf, type Job } from '../../jobs';
import { servingGrantFor } from '../servingKeys';
import { apiBase } from '../../../../native/model';
import type { JsonObject } from '../../../../native/worker/protocol';
import { jobCommandArgs, runJobWithProgress, workspaceDirFor, type JobCommandArgs, type JobCommandContext } from '../jobs/runJob';
import { pythonInterpreter } from '../jobs/pythonInterpreter';
import { ensureTrusted } from '../jobs/trust';
import { findModelFolders, pickModel } from '../pick/pickModel';
import { openLiveRunPanel } from '../panels';
import { readSettings, SETTINGS_SECTION } from '../settings';
import { engineRunOptions } from './engineRunOptions';
import { benchmarkOptions, checkpointVariant, configVariant, type BenchmarkVariant } from './jobOptions';

const CONFIG_GLOB = '**/{*.quant.json,quantize_config.json,quant_config.json}';
const EXCLUDE = '**/{node_modules,.git,out,dist}/**';

interface Plan {
  model: string;
  variants: BenchmarkVariant[];
  uri?: vscode.Uri;
  /** A job file's own options (its `benchmark` section); the settings' batch sizes fill what it leaves out. */
  options?: JsonObject;
}

export async function benchmark(ctx: JobCommandContext, arg?: unknown): Promise<void> {
  if (!ensureTrusted('Benchmarking')) return;
  const args = jobCommandArgs(arg);
  const serving = args.uri ? benchmarkJobFromJobFile(args.uri.fsPath) : undefined;
  if (typeof serving === 'object' && serving.kind === 'serving') return benchmarkServer(ctx, serving, args.uri!);
  const plan = await planFrom(ctx, args);
  if (!plan) return;
  if (typeof plan === 'string') {
    ctx.output.error(plan);
    void vscode.window.showErrorMessage(`QuantStudio: ${plan}`);
    return;
  }
  const settings = readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION));
  const modelName = path.basename(plan.model);
  const onPython = plan.options?.backend === 'python';
  // The engine's run options from the settings; the python backend runs the checkpoint as transformers loads it.
  const runOptions = onPython ? {} : engineRunOptions(settings.engine);
  // a job file's benchmark section (plan.options) overrides the settings
  const options: JsonObject = { ...benchmarkOptions(plan.variants, settings.benchmark.batchSizes), ...runOptions, ...plan.options };
  if (onPython) {
    const python = await pythonInterpreter(settings.python, plan.uri);
    options.python = python.path;
    ctx.output.info(`python backend: ${python.path} (from ${python.from})`);
  }
  await runJobWithProgress(ctx, {
    job: { kind: 'benchmark', model: plan.model, options },
    title: `Benchmarking ${modelName}`,
    noun: 'Benchmark',
    workspaceDir: workspaceDirFor(plan.uri, plan.model),
    live: openLiveRunPanel({ kind: 'benchmark', title: modelName }),
  });
}

/** A job file whose benchmark section names an endpoint: the server measured, with the key stored for it. */
async function benchmarkServer(ctx: JobCommandContext, job: Job, uri: vscode.Uri): Promise<void> {
  const base = apiBase(String(job.options.endpoint));
  const grant = base === undefined ? undefined : await servingGrantFor(ctx.extension, base); // the worker names a bad URL
  ctx.output.info(`serving benchmark of ${String(job.options.endpoint)}${grant ? ' with the API key stored for it' : ''}`);
  await runJobWithProgress(ctx, {
    job,
    title: `Benchmarking the server of ${path.basename(job.model)}`,
    noun: 'Serving benchmark',
    workspaceDir: workspaceDirFor(uri, path.dirname(uri.fsPath)),
    live: openLiveRunPanel({ kind: 'serving', title: path.basename(job.model) }),
    ...(grant ? { serving: grant } : {}),
  });
}

/** The plan, undefined when the user stepped back, or an error message naming the file at fault. */
async function planFrom(ctx: JobCommandContext, args: JobCommandArgs): Promise<Plan | string | undefined> {
  if (args.uri) {
    const job = benchmarkJobFromJobFile(args.uri.fsPath);
    if (typeof job === 'string') return job;
    return { model: job.model, variants: [], options: job.options, uri: args.uri };
  }
  if (args.model) {
    const variant = args.config ? configVariant(args.config) : undefined;
    if (typeof variant === 'string') return variant;
    return { model: args.model, variants: variant ? [variant] : [] };
  }
  const model = await pickModel(ctx.extension, { title: 'Benchmark: model (the fp16 baseline)', only: 'full-precision' });
  if (!model) return undefined;
  return pickVariants(ctx, model, args.config);
}

type VariantItem = vscode.QuickPickItem & { config?: string; checkpoint?: string; browse?: 'file' | 'folder' };

async function pickVariants(ctx: JobCommandContext, model: string, preselected: string | undefined): Promise<Plan | string | undefined> {
  const checkpoints = (await findModelFolders(ctx.extension)).filter((m) => m.quantMethod !== undefined);
  // a checkpoint's own quantize_config.json is the checkpoint, offered once as its folder
  const configs = (await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE, 200)).filter(
    (u) => quantizedCheckpointOf(u.fsPath) === undefined,
  );
  const items: VariantItem[] = [
    ...checkpoints.map((m) => ({
      label: path.basename(m.folder),
      description: `${m.quantMethod} checkpoint, run as it is`,
      detail: vscode.workspace.asRelativePath(m.folder),
      checkpoint: m.folder,
      picked: preselected !== undefined && quantizedCheckpointOf(preselected) === m.folder,
    })),
    ...configs.map((u) => ({
      label: path.basename(u.fsPath),
      description: 'config, quantized for the run',
      detail: vscode.workspace.asRelativePath(u),
      config: u.fsPath,
      picked: u.fsPath === preselected,
    })),
    { label: 'Browse for a config file…', browse: 'file' as const },
    { label: 'Browse for a checkpoint folder…', browse: 'folder' as const },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Benchmark: variants beside the fp16 baseline',
    placeHolder: 'Pick quantization configs and/or quantized checkpoints (none: the baseline alone)',
    canPickMany: true,
  });
  if (!picked) return undefined;
  const configFiles = picked.flatMap((i) => (i.config ? [i.config] : []));
  const folders = picked.flatMap((i) => (i.checkpoint ? [i.checkpoint] : []));
  for (const item of picked.filter((i) => i.browse)) {
    const folder = item.browse === 'folder';
    const chosen = await vscode.window.showOpenDialog({
      title: item.label,
      canSelectFiles: !folder,
      canSelectFolders: folder,
      canSelectMany: true,
      ...(folder ? {} : { filters: { JSON: ['json'] } }),
    });
    for (const uri of chosen ?? []) (folder ? folders : configFiles).push(uri.fsPath);
  }
  const variants: BenchmarkVariant[] = [];
  for (const file of configFiles) {
    const variant = configVariant(file);
    if (typeof variant === 'string') return variant;
    variants.push(variant);
  }
  return { model, variants: [...variants, ...folders.map(checkpointVariant)] };
}
