// Extension entry: starts the QuantStudio language server and registers the editor commands.
// It never loads the native addon: engine work runs in a separate worker process.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { createLanguageClient } from './languageClient';
import { quantizeModel } from './quantize/command';
import { showEstimate } from './showEstimate';
import { validateWorkspace } from './validateWorkspace';

export const OUTPUT_CHANNEL_NAME = 'QuantStudio';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  context.subscriptions.push(output);
  output.info(`QuantStudio ${String(context.extension.packageJSON.version)} activated (VS Code ${vscode.version}, ${vscode.env.appHost}).`);

  context.subscriptions.push(
    vscode.commands.registerCommand('quantstudio.showServerLog', () => output.show(true)),
    vscode.commands.registerCommand('quantstudio.validateWorkspace', () => validateWorkspace(output)),
    vscode.commands.registerCommand('quantstudio.showEstimate', showEstimate),
    vscode.commands.registerCommand('quantstudio.quantize', () => quantizeModel(output)),
  );

  client = createLanguageClient(context, output);
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
