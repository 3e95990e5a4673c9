// "QuantStudio: Evaluate Perplexity…": a model and a text — the bundled WikiText-2 test text (the
// project's protocol: 256-token windows) or any text file.
import * as path from 'path';
import * as vscode from 'vscode';
import { runJobWithProgress, trustedModelJob, workspaceDirFor, type JobCommandContext } from '../jobs/runJob';
import { showRunPanel } from '../panels';
import { readSettings, SETTINGS_SECTION } from '../settings';
import { engineRunOptions } from './engineRunOptions';
import { perplexityOptions } from './jobOptions';

const WIKITEXT = 'WikiText-2 test';

export async function evaluatePerplexity(ctx: JobCommandContext, arg?: unknown): Promise<void> {
  const start = await trustedModelJob(ctx, arg, 'Perplexity evaluation', 'Evaluate Perplexity: model');
  if (!start) return;
  const { args, model } = start;
  const text = await pickText();
  if (text === undefined) return;
  const modelName = path.basename(model);
  const run = engineRunOptions(readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION)).engine);
  const saved = await runJobWithProgress(ctx, {
    job: { kind: 'perplexity', model, options: { ...perplexityOptions(text || undefined), ...run } },
    title: `Perplexity of ${modelName}`,
    noun: 'Perplexity evaluation',
    workspaceDir: workspaceDirFor(args.uri, model),
  });
  if (!saved) return;
  const m = saved.run.metrics;
  const message = `Perplexity of ${modelName} on ${text ? path.basename(text) : WIKITEXT}: ${m.perplexity?.toFixed(4) ?? 'not measured'} over ${m.tokens ?? 0} tokens.`;
  const choice = await vscode.window.showInformationMessage(message, ...(saved.runFile ? ['Open Run'] : []));
  if (choice === 'Open Run' && saved.runFile) showRunPanel(saved.run, saved.runFile);
}

/** '' for the bundled WikiText-2 test text, a file path, or undefined when dismissed. */
async function pickText(): Promise<string | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: WIKITEXT, description: 'bundled; the default', file: '' },
      { label: 'Pick a text file…', description: 'any UTF-8 text', file: undefined },
    ],
    { title: 'Evaluate Perplexity: text', placeHolder: 'Text to measure perplexity on' },
  );
  if (!picked) return undefined;
  if (picked.file !== undefined) return picked.file;
  const chosen = await vscode.window.showOpenDialog({
    title: 'Evaluate Perplexity: text',
    canSelectMany: false,
    openLabel: 'Measure on this text',
    filters: { Text: ['txt', 'md', 'raw'], 'All files': ['*'] },
  });
  return chosen?.[0]?.fsPath;
}
