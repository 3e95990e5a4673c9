// Writes a new *.quant.json from a method template (GPTQ 4/3-bit, AWQ, NF4, int8) for a picked model and
// opens it, so the settings can be reviewed before the (long) run starts from its "▶ Quantize" lens.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { JobCommandContext } from '../jobs/runJob';
import { pickModel } from '../pick/pickModel';
import { BACKEND_CHOICES, JobBackend, jobFileText, METHOD_TEMPLATES, newJobFilePaths } from '../../jobs';

/** `file`, or `file` with -2, -3… before .quant.json when it exists: never overwrite someone's job file. */
function freeName(file: string): string {
  const stem = file.slice(0, -'.quant.json'.length);
  let candidate = file;
  for (let n = 2; fs.existsSync(candidate); n++) candidate = `${stem}-${n}.quant.json`;
  return candidate;
}

async function pickBackend(): Promise<JobBackend | undefined> {
  const picked = await vscode.window.showQuickPick(
    BACKEND_CHOICES.map((c) => ({ label: c.label, detail: c.detail, backend: c.backend })),
    {
      title: 'Quantize Model: backend',
      placeHolder: 'What quantizes (the job file\'s "backend"; the result is evaluated on the engine either way)',
    },
  );
  return picked?.backend;
}

export async function createJobFile(ctx: JobCommandContext): Promise<vscode.Uri | undefined> {
  const template = await vscode.window.showQuickPick(
    METHOD_TEMPLATES.map((t) => ({ label: t.label, detail: t.detail, template: t })),
    { title: 'Quantize Model: method', placeHolder: 'No job file (*.quant.json) yet: pick the method of a new one' },
  );
  if (!template) return undefined;
  const backend = await pickBackend();
  if (!backend) return undefined;
  const model = await pickModel(ctx.extension, { title: 'Quantize Model: model', only: 'full-precision' });
  if (!model) return undefined;
  const workspaceDir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? path.dirname(model);
  const paths = newJobFilePaths(workspaceDir, model, template.template);
  const jobFile = freeName(paths.jobFile);
  try {
    fs.writeFileSync(jobFile, jobFileText(template.template, jobFile, model, paths.output, backend), { flag: 'wx' });
  } catch (error) {
    void vscode.window.showErrorMessage(
      `QuantStudio: could not write ${jobFile}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
  ctx.output.info(`Wrote the job file ${jobFile}.`);
  const uri = vscode.Uri.file(jobFile);
  await vscode.window.showTextDocument(uri);
  void vscode.window.showInformationMessage(
    `QuantStudio: wrote ${path.basename(jobFile)}. Review it, then run it with "▶ Quantize" above it or "QuantStudio: Quantize Model…".`,
  );
  return uri;
}
