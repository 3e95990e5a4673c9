// Extension entry: starts the QuantStudio language server and registers the commands, the Runs view and
// the panels. Each command lives in its own module. It never loads the native addon: engine work runs
// in a separate worker process.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { benchmark } from './commands/benchmark';
import { estimateMemory } from './commands/estimateMemory';
import { generate } from './commands/generate';
import { evaluatePerplexity } from './commands/perplexity';
import { HubSecretsState, setHubToken } from './hubToken';
import type { JobCommandContext } from './jobs/runJob';
import { createLanguageClient, pushSettings } from './languageClient';
import { quantizeModel } from './quantize/command';
import { registerPanels } from './panels';
import { compareRuns, deleteRun, exportRunCommand, openRun } from './runs/runCommands';
import { RUNS_VIEW_ID, RunsTreeProvider } from './runs/runsTree';
import { validateWorkspace } from './validateWorkspace';

export const OUTPUT_CHANNEL_NAME = 'QuantStudio';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  context.subscriptions.push(output);
  output.info(`QuantStudio ${String(context.extension.packageJSON.version)} activated (VS Code ${vscode.version}, ${vscode.env.appHost}).`);

  const jobs: JobCommandContext = { extension: context, output };
  const runs = new RunsTreeProvider();
  const command = (id: string, run: (arg?: unknown) => unknown): vscode.Disposable => vscode.commands.registerCommand(id, run);
  context.subscriptions.push(
    runs,
    vscode.window.registerTreeDataProvider(RUNS_VIEW_ID, runs),
    command('quantstudio.showServerLog', () => output.show(true)),
    command('quantstudio.validateWorkspace', () => validateWorkspace(output)),
    command('quantstudio.showEstimate', (arg) => estimateMemory(arg)),
    command('quantstudio.quantize', (arg) => quantizeModel(jobs, arg)),
    command('quantstudio.benchmark', (arg) => benchmark(jobs, arg)),
    command('quantstudio.generate', (arg) => generate(jobs, arg)),
    command('quantstudio.perplexity', (arg) => evaluatePerplexity(jobs, arg)),
    command('quantstudio.openRun', (arg) => openRun(context, arg)),
    command('quantstudio.compareRuns', (arg) => compareRuns(context, arg)),
    command('quantstudio.exportRun', (arg) => exportRunCommand(arg)),
    command('quantstudio.refreshRuns', () => runs.refresh()),
    // the Runs view's entry actions (hidden from the palette; the item is the argument)
    command('quantstudio.runs.open', (arg) => openRun(context, arg)),
    command('quantstudio.runs.compareWith', (arg) => compareRuns(context, arg)),
    command('quantstudio.runs.export', (arg) => exportRunCommand(arg)),
    command('quantstudio.runs.delete', async (arg) => (await deleteRun(arg)) && runs.refresh()),
    command('quantstudio.setHubToken', () => setHubToken(context, output)),
  );
  context.subscriptions.push(registerPanels(context));

  const hub: HubSecretsState = await HubSecretsState.load(context, () => pushSettings(client, hub.current));
  context.subscriptions.push(hub);
  client = createLanguageClient(context, output, () => hub.current);
  try {
    await client.start();
    output.info('Language server started.');
  } catch (error) {
    const message = `QuantStudio language server failed to start: ${error instanceof Error ? error.message : String(error)}. Run "QuantStudio: Show Language Server Log" for details.`;
    output.error(message);
    void vscode.window.showErrorMessage(message);
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
