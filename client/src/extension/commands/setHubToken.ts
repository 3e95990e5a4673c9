// "QuantStudio: Set Hugging Face Token": stores the token in VS Code's SecretStorage under hubToken.ts's key; the
// secret's change event hands it to the language server. An empty entry removes it. The token is never logged.
import * as vscode from 'vscode';
import { SECRET_KEY } from '../hubToken';

export async function setHubToken(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): Promise<void> {
  const token = await vscode.window.showInputBox({
    title: 'Hugging Face Token',
    prompt: "A token (hf_…) to read gated or private models from the Hub; kept in VS Code's secret storage. Leave empty to remove it.",
    password: true,
    ignoreFocusOut: true,
    placeHolder: 'hf_…',
  });
  if (token === undefined) return;
  if (token.trim() === '') {
    await context.secrets.delete(SECRET_KEY);
    output.info('Hugging Face token removed.');
    void vscode.window.showInformationMessage('QuantStudio: Hugging Face token removed.');
  } else {
    await context.secrets.store(SECRET_KEY, token.trim());
    output.info('Hugging Face token stored in secret storage.');
    void vscode.window.showInformationMessage('QuantStudio: Hugging Face token stored; gated models are resolved with it.');
  }
}
