// "QuantStudio: Generate…": a model, a prompt and a token budget; sampling and the backend (the engine, or
// transformers in the python backend's interpreter) come from the quantstudio.generate.* settings. Tokens stream
// into the live Generate panel.
import * as path from 'path';
import * as vscode from 'vscode';
import { runJobWithProgress, trustedModelJob, workspaceDirFor, type JobCommandContext } from '../jobs/runJob';
import type { JsonObject } from '../../../../native/worker/protocol';
import { pythonInterpreter } from '../jobs/pythonInterpreter';
import { openLiveRunPanel } from '../panels';
import { readSettings, SETTINGS_SECTION } from '../settings';
import { engineRunOptions } from './engineRunOptions';
import { generateOptions, positiveIntegerProblem } from './jobOptions';

const LAST_PROMPT_KEY = 'quantstudio.generate.lastPrompt';

export async function generate(ctx: JobCommandContext, arg?: unknown): Promise<void> {
  const start = await trustedModelJob(ctx, arg, 'Generation', 'Generate: model');
  if (!start) return;
  const { args, model } = start;
  const prompt = await vscode.window.showInputBox({
    title: `Generate with ${path.basename(model)}`,
    prompt: 'The prompt the model continues',
    value: ctx.extension.workspaceState.get<string>(LAST_PROMPT_KEY, 'ROMEO:'),
    validateInput: (text) => (text.length === 0 ? 'Enter a prompt.' : undefined),
  });
  if (prompt === undefined) return;
  await ctx.extension.workspaceState.update(LAST_PROMPT_KEY, prompt);
  const settings = readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION));
  const tokens = await vscode.window.showInputBox({
    title: `Generate with ${path.basename(model)}`,
    prompt: 'Tokens to generate at most',
    value: String(settings.generate.maxTokens),
    validateInput: positiveIntegerProblem,
  });
  if (tokens === undefined) return;
  const modelName = path.basename(model);
  const options: JsonObject = generateOptions(prompt, Number(tokens), settings.generate);
  if (settings.generate.backend === 'python') {
    const python = await pythonInterpreter(settings.python, args.uri);
    Object.assign(options, { backend: 'python', python: python.path });
    ctx.output.info(`python backend: ${python.path} (from ${python.from})`);
  } else Object.assign(options, engineRunOptions(settings.engine));
  await runJobWithProgress(ctx, {
    job: { kind: 'generate', model, options },
    title: `Generating with ${modelName}`,
    noun: 'Generation',
    workspaceDir: workspaceDirFor(args.uri, model),
    // the panel shows the prompt and sampling settings (a run file does not record them)
    live: openLiveRunPanel({ kind: 'generate', title: modelName, settings: { ...settings.generate, prompt, maxTokens: Number(tokens) } }),
  });
}
