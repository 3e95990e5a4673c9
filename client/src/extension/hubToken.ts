// The Hugging Face token for gated models: kept in VS Code's SecretStorage (never in settings, never
// logged), handed to the language server with a folder for its Hub answer cache — in initializationOptions
// at start, and as a configuration change whenever the token is set or cleared.
import * as path from 'path';
import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, type LanguageClient } from 'vscode-languageclient/node';
import type { HubAccess } from '../jobs';

const SECRET_KEY = 'quantstudio.hub.token';

/** What the server reads under quantstudio.hub besides the endpoint (server/src/lsp/settings.ts). */
export interface HubSecrets {
  /** '' = no token (the server then falls back to HF_TOKEN). */
  token: string;
  answerCacheDir: string;
}

async function readHubSecrets(context: vscode.ExtensionContext): Promise<HubSecrets> {
  return { token: (await context.secrets.get(SECRET_KEY)) ?? '', answerCacheDir: path.join(context.globalStorageUri.fsPath, 'hub-answers') };
}

/**
 * The current token and cache folder, read once at activation and again whenever the secret changes (here
 * or in another window); each change is pushed to the running server, and a restarted server gets the
 * current value in its initializationOptions.
 */
export class HubSecretsState implements vscode.Disposable {
  private constructor(
    private value: HubSecrets,
    private readonly subscription: vscode.Disposable,
  ) {}

  static async load(context: vscode.ExtensionContext, client: () => LanguageClient | undefined): Promise<HubSecretsState> {
    const state: HubSecretsState = new HubSecretsState(
      await readHubSecrets(context),
      context.secrets.onDidChange(async (e) => {
        if (e.key !== SECRET_KEY) return;
        state.value = await readHubSecrets(context);
        const running = client();
        if (running?.isRunning()) await running.sendNotification(DidChangeConfigurationNotification.type, { settings: { quantstudio: { hub: state.value } } });
      }),
    );
    return state;
  }

  get current(): HubSecrets {
    return this.value;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

/** "QuantStudio: Set Hugging Face Token": an empty entry removes the stored token. */
export async function setHubToken(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): Promise<void> {
  const token = await vscode.window.showInputBox({
    title: 'Hugging Face Token',
    prompt: 'A token (hf_…) to read gated or private models from the Hub; kept in VS Code\'s secret storage. Leave empty to remove it.',
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

/**
 * Where a job on a Hub id downloads from, by the language server's rules: HF_ENDPOINT over the
 * quantstudio.hub.endpoint setting; the stored token, else the worker keeps HF_TOKEN from the environment.
 */
export async function jobHubAccess(context: vscode.ExtensionContext, endpointSetting: string): Promise<HubAccess> {
  const token = (await context.secrets.get(SECRET_KEY)) ?? '';
  const endpoint = process.env.HF_ENDPOINT || endpointSetting;
  return { ...(endpoint ? { endpoint } : {}), ...(token ? { token } : {}) };
}
