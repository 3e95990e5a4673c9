// The Hugging Face token for gated models: kept in VS Code's SecretStorage (never in settings, never
// logged), handed to the language server with the one endpoint it may be sent to (hubGrant.ts decides) and a
// folder for its Hub answer cache — in initializationOptions at start, and again whenever the token, the
// endpoint, the allowed endpoints or the workspace's trust change.
import * as path from 'path';
import * as vscode from 'vscode';
import type { HubAccess } from '../jobs';
import { decideToken, hubEndpoint, withAllowed } from './hubGrant';
import type { TokenDecision } from './hubGrant';
import { SETTINGS_SECTION, readSettings } from './settings';

/** Where the token lives in VS Code's SecretStorage (commands/setHubToken.ts writes it). */
export const SECRET_KEY = 'quantstudio.hub.token';
/** Application scope: only the user's own settings can allow an endpoint. */
const ALLOWED_KEY = 'hub.tokenEndpoints';

/** What the server reads under quantstudio.hub besides the endpoint (server/src/lsp/settings.ts). */
export interface HubSecrets {
  /** '' = no token for this window's Hub requests. */
  token: string;
  /** The only endpoint the token may be sent to. */
  tokenEndpoint: string;
  answerCacheDir: string;
}

/** Endpoints the user allowed the token for, from user settings only (settings.ts never reads a workspace value). */
function allowedEndpoints(): string[] {
  return readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION)).hub.tokenEndpoints;
}

async function currentDecision(context: vscode.ExtensionContext): Promise<TokenDecision> {
  const token = ((await context.secrets.get(SECRET_KEY)) || process.env.HF_TOKEN || '').trim();
  const endpoint = hubEndpoint(process.env, readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION)).hub.endpoint);
  return decideToken({ token, endpoint, trusted: vscode.workspace.isTrusted, allowed: allowedEndpoints() });
}

/** Asks whether the token may go to `endpoint`; a yes is remembered in the user's settings. */
async function askToAllow(endpoint: string): Promise<boolean> {
  const allow = 'Send Token to This Endpoint';
  const choice = await vscode.window.showWarningMessage(
    `QuantStudio: the Hub endpoint ${endpoint} is not huggingface.co. Send your Hugging Face token to it? Only allow a server you trust with your account.`,
    allow,
    'Not Now',
  );
  if (choice !== allow) return false;
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  try {
    await config.update(ALLOWED_KEY, withAllowed(allowedEndpoints(), endpoint), vscode.ConfigurationTarget.Global);
    return true;
  } catch (error) {
    void vscode.window.showErrorMessage(
      `QuantStudio: could not save quantstudio.hub.tokenEndpoints: ${error instanceof Error ? error.message : String(error)}`,
    );
    return false;
  }
}

/**
 * The token grant and cache folder, computed at activation and again whenever the secret, the Hub settings or
 * the workspace's trust change; `changed` then pushes them to the running server, and a restarted server gets
 * the current value in its initializationOptions. An endpoint the user has not allowed is asked about once
 * per window.
 */
export class HubSecretsState implements vscode.Disposable {
  private value: HubSecrets;
  private readonly asked = new Set<string>();
  private readonly subscriptions: vscode.Disposable[];

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly changed: () => void,
  ) {
    this.value = { token: '', tokenEndpoint: '', answerCacheDir: path.join(context.globalStorageUri.fsPath, 'hub-answers') };
    this.subscriptions = [
      context.secrets.onDidChange((e) => e.key === SECRET_KEY && void this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(SETTINGS_SECTION) && void this.refresh()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refresh()),
    ];
  }

  static async load(context: vscode.ExtensionContext, changed: () => void): Promise<HubSecretsState> {
    const state = new HubSecretsState(context, changed);
    await state.update();
    return state;
  }

  get current(): HubSecrets {
    return this.value;
  }

  private async update(): Promise<void> {
    const decision = await currentDecision(this.context);
    const grant = decision.kind === 'grant' ? decision.grant : undefined;
    this.value = { ...this.value, token: grant?.token ?? '', tokenEndpoint: grant?.endpoint ?? '' };
    if (decision.kind === 'ask' && !this.asked.has(decision.endpoint)) {
      this.asked.add(decision.endpoint);
      void askToAllow(decision.endpoint); // a yes changes the settings, which refreshes
    }
  }

  private async refresh(): Promise<void> {
    await this.update();
    this.changed();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

/**
 * Where a job on a Hub id downloads from, by the language server's rules (HF_ENDPOINT over the user's
 * quantstudio.hub.endpoint setting), and the token when hubGrant.ts allows it there — asking first for an
 * endpoint the user has not allowed. Without a token the worker gets none, not even HF_TOKEN.
 */
export async function jobHubAccess(context: vscode.ExtensionContext): Promise<HubAccess> {
  let decision = await currentDecision(context);
  if (decision.kind === 'ask' && (await askToAllow(decision.endpoint))) decision = await currentDecision(context);
  const endpoint = hubEndpoint(process.env, readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION)).hub.endpoint);
  return decision.kind === 'grant' ? { endpoint, token: decision.grant.token } : { endpoint };
}
