// "QuantStudio: Recommend a Quantization…": picks a model, then a device (or a memory budget) and a serving target,
// shows the advisor's ranking (native/model/advisor.ts) in a panel, writes `<model>-<method>.quant.json` for the row
// whose "Write job file" is pressed (asking before it replaces a file), and on "Evaluate" quantizes the first picks
// with a short perplexity each, then shows the figures in the panel.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  advise,
  DEPLOYMENT_TARGETS,
  DEVICES,
  deviceById,
  formatModelError,
  humanBytes,
  parseBudget,
  parseHubRef,
  resolveModel,
  THIS_MACHINE,
} from '../../../../native/model';
import type { Advice, AdviceRequest, DeploymentTarget, ResolveOptions } from '../../../../native/model';
import { jobHubAccess } from '../hubToken';
import { runJobWithProgress } from '../jobs/runJob';
import type { JobCommandContext } from '../jobs/runJob';
import { EVALUATE_COUNT, showAdvicePanel } from '../panels';
import { pickModel } from '../pick/pickModel';
import { evaluatedOf, evaluationJobs, jobFileText, newJobFilePaths, qualityRowTemplate, runnablePicks } from '../../jobs';
import type { Evaluated } from '../../jobs';

const TITLE = 'Recommend a Quantization';
const BUDGET = 'budget';

async function pickBudget(): Promise<Omit<AdviceRequest, 'target'> | undefined> {
  const items = [
    ...DEVICES.map((d) => ({ label: d.label, description: humanBytes(d.memoryBytes), detail: d.source, id: d.id })),
    { label: 'This machine', description: 'memory available now; bandwidth unknown', id: THIS_MACHINE },
    { label: 'A memory budget…', description: 'e.g. 6GiB', id: BUDGET },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${TITLE}: device or budget`, placeHolder: 'Where the model will run' });
  if (!picked) return undefined;
  if (picked.id === BUDGET) {
    const text = await vscode.window.showInputBox({
      title: `${TITLE}: memory budget`,
      prompt: 'The memory the quantized model may take at its peak',
      value: '6GiB',
      validateInput: (t) => {
        const bytes = parseBudget(t);
        return typeof bytes === 'string' ? bytes : undefined;
      },
    });
    const bytes = text === undefined ? undefined : parseBudget(text);
    return typeof bytes === 'number' ? { budgetBytes: bytes, budgetLabel: `budget ${text!.trim()}` } : undefined;
  }
  const device = deviceById(picked.id)!;
  return {
    budgetBytes: device.memoryBytes,
    budgetLabel: `${device.label}: ${device.source}`,
    ...(device.bandwidthBytesPerSecond === undefined ? {} : { bandwidthBytesPerSecond: device.bandwidthBytesPerSecond }),
  };
}

async function pickTarget(): Promise<{ target?: DeploymentTarget } | undefined> {
  const items = [{ label: 'No serving target', target: undefined }, ...DEPLOYMENT_TARGETS.map((t) => ({ label: t, target: t }))];
  const picked = await vscode.window.showQuickPick(items, {
    title: `${TITLE}: serving target`,
    placeHolder: 'Which runtime will serve it',
  });
  return picked ? (picked.target ? { target: picked.target } : {}) : undefined;
}

/** Quantizes the picks one after another with a short perplexity each (runs saved like any other); undefined when one failed or was cancelled. */
async function evaluatePicks(ctx: JobCommandContext, model: string, picks: readonly Advice[]): Promise<Evaluated[] | undefined> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-recommend-'));
  const workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? path.dirname(model);
  try {
    const jobs = evaluationJobs(picks, model, scratch);
    const metrics = [];
    for (const [i, job] of jobs.entries()) {
      const saved = await runJobWithProgress(ctx, { job, title: `Evaluating ${picks[i]!.label}`, noun: 'Evaluation', workspaceDir });
      if (!saved) return undefined;
      metrics.push(saved.run.metrics);
    }
    return evaluatedOf(picks, metrics);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function writeJobFile(ctx: JobCommandContext, model: string, pick: Advice): Promise<void> {
  const template = qualityRowTemplate(pick.row);
  if (!template) return;
  const workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? path.dirname(model);
  const { jobFile, output } = newJobFilePaths(workspaceDir, model, template);
  if (fs.existsSync(jobFile)) {
    const replace = 'Replace';
    const answer = await vscode.window.showWarningMessage(`${path.basename(jobFile)} exists. Replace it?`, { modal: true }, replace);
    if (answer !== replace) return;
  }
  fs.writeFileSync(jobFile, jobFileText(template, jobFile, model, output));
  ctx.output.info(`Wrote the job file ${jobFile} (${pick.label}, rank ${pick.rank}).`);
  await vscode.window.showTextDocument(vscode.Uri.file(jobFile));
}

/** A Hub id is resolved at the Hub the jobs use, with the stored token when the user allowed it there. */
async function hubOptions(ctx: JobCommandContext, model: string): Promise<ResolveOptions> {
  if (!parseHubRef(model)) return {};
  const hub = await jobHubAccess(ctx.extension);
  const endpoint = hub.endpoint ? { endpoint: hub.endpoint } : {};
  return hub.token && hub.endpoint ? { ...endpoint, token: { token: hub.token, endpoint: hub.endpoint } } : endpoint;
}

export async function recommendQuantization(ctx: JobCommandContext): Promise<void> {
  const model = await pickModel(ctx.extension, { title: `${TITLE}: model`, only: 'full-precision' });
  if (!model) return;
  const budget = await pickBudget();
  if (!budget) return;
  const target = await pickTarget();
  if (!target) return;
  const request: AdviceRequest = { ...budget, ...target };
  const resolution = await resolveModel(model, await hubOptions(ctx, model));
  if (!resolution.ok) {
    void vscode.window.showErrorMessage(`QuantStudio: ${formatModelError(resolution.error)}`);
    return;
  }
  const advice = advise(resolution.model, request);
  if (!advice.ok) {
    void vscode.window.showErrorMessage(`QuantStudio: ${formatModelError(advice.error)}`);
    return;
  }
  const rows = advice.value;
  const input = { model: path.basename(model), request, rows };
  let evaluating = false;
  const refresh = showAdvicePanel(input, {
    write: (id) => {
      const pick = rows.find((a) => a.id === id);
      if (pick) void writeJobFile(ctx, model, pick);
    },
    evaluate: () => {
      if (evaluating) return;
      evaluating = true;
      void evaluatePicks(ctx, model, runnablePicks(rows).slice(0, EVALUATE_COUNT))
        .then((evaluated) => evaluated && refresh({ ...input, evaluated }))
        .finally(() => (evaluating = false));
    },
  });
}
