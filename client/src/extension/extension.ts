// Extension entry: starts the QuantStudio language server and registers the commands, the Runs view and
// the panels. Each command lives in its own module. It never loads the native addon: engine work runs
// in a separate worker process.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { COMMANDS } from '../../../server/src/protocol';
import type { CommandId } from '../../../server/src/protocol';
import { benchmark } from './commands/benchmark';
import { checkpointDoctor } from './commands/checkpointDoctor';
import { recommendQuantization } from './commands/recommend';
import { estimateMemory } from './commands/estimateMemory';
import { generate } from './commands/generate';
import { evaluatePerplexity } from './commands/perplexity';
import { HubSecretsState } from './hubToken';
import { setHubToken } from './commands/setHubToken';
import { setServingApiKey } from './commands/setServingApiKey';
import type { JobCommandContext } from './jobs/runJob';
import { createLanguageClient, pushSettings } from './languageClient';
import { quantizeModel } from './commands/quantize';
import { registerPanels } from './panels';
import { compareRuns, deleteRun, exportRunCommand, openRun } from './commands/runs';
import { RUNS_VIEW_ID, RunsTreeProvider } from './runs/runsTree';
import { validateWorkspace } from './commands/validateWorkspace';

export const OUTPUT_CHANNEL_NAME = 'QuantStudio';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  context.subscriptions.push(output);
  output.info(`QuantStudio ${String(context.extension.packageJSON.version)} activated (VS Code ${vscode.version}, ${vscode.env.appHost}).`);

  const jobs: JobCommandContext = { extension: context, output };
  const runs = new RunsTreeProvider();
  const command = (id: CommandId, run: (arg?: unknown) => unknown): vscode.Disposable => vscode.commands.registerCommand(id, run);
  context.subscriptions.push(
    runs,
    vscode.window.registerTreeDataProvider(RUNS_VIEW_ID, runs),
    command(COMMANDS.showServerLog, () => output.show(true)),
    command(COMMANDS.validateWorkspace, () => validateWorkspace(output)),
    command(COMMANDS.showEstimate, (arg) => estimateMemory(arg)),
    command(COMMANDS.quantize, (arg) => quantizeModel(jobs, arg)),
    command(COMMANDS.benchmark, (arg) => benchmark(jobs, arg)),
    command(COMMANDS.generate, (arg) => generate(jobs, arg)),
    command(COMMANDS.perplexity, (arg) => evaluatePerplexity(jobs, arg)),
    command(COMMANDS.openRun, (arg) => openRun(arg)),
    command(COMMANDS.compareRuns, (arg) => compareRuns(arg)),
    command(COMMANDS.exportRun, (arg) => exportRunCommand(arg)),
    command(COMMANDS.refreshRuns, () => runs.refresh()),
    // the Runs view's entry actions (hidden from the palette; the item is the argument)
    command(COMMANDS.runsOpen, (arg) => openRun(arg)),
    command(COMMANDS.runsCompareWith, (arg) => compareRuns(arg)),
    command(COMMANDS.runsExport, (arg) => exportRunCommand(arg)),
    command(COMMANDS.runsDelete, async (arg) => (await deleteRun(arg)) && runs.refresh()),
    command(COMMANDS.setHubToken, () => setHubToken(context, output)),
    command(COMMANDS.setServingApiKey, () => setServingApiKey(context, output)),
    command(COMMANDS.checkpointDoctor, (arg) => checkpointDoctor(arg)),
    command(COMMANDS.recommendQuantization, () => recommendQuantization(jobs)),
  );
  context.subscriptions.push(registerPanels());

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
