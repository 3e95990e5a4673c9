// The LanguageClient for the bundled server (dist/server.js, a Node process over IPC). The server
// never loads the native addon, so a crash here costs validation only, and the client restarts it.
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  LanguageClient,
  TransportKind,
  type ErrorHandler,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { DOCUMENT_SELECTOR } from './documents';
import { reportedByEditor } from './jsonSyntax';
import type { HubSecrets } from './hubToken';
import { RestartPolicy } from './restartPolicy';
import { SETTINGS_SECTION, readSettings } from './settings';

export const CLIENT_ID = 'quantstudio'; // also the prefix of the quantstudio.trace.server setting the client reads
export const CLIENT_NAME = 'QuantStudio Language Server';

function crashHandler(output: vscode.LogOutputChannel): ErrorHandler {
  const policy = new RestartPolicy();
  return {
    // A read/write error on the connection: keep going unless errors pile up (then the process is gone anyway).
    error: (_error, _message, count) => ({ action: (count ?? 1) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
    closed: () => {
      const decision = policy.onCrash();
      if (decision.restart) output.warn(decision.message);
      else output.error(decision.message);
      if (decision.restart) return { action: CloseAction.Restart, handled: true };
      void vscode.window.showErrorMessage(decision.message, 'Show Log').then((choice) => {
        if (choice === 'Show Log') output.show(true);
      });
      return { action: CloseAction.DoNotRestart, handled: true };
    },
  };
}

/**
 * The typed settings plus the Hub token grant and answer-cache folder, which live outside the settings. The
 * server gets only this, never the raw settings section, so no workspace key can reach its Hub options.
 */
export function initializationOptions(hub: HubSecrets): object {
  const settings = readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION));
  return { ...settings, hub: { ...settings.hub, ...hub } };
}

/** Sends the current settings to a running server (a settings, token or trust change). */
export function pushSettings(client: LanguageClient | undefined, hub: HubSecrets): void {
  if (client?.isRunning())
    void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { quantstudio: initializationOptions(hub) } });
}

/** The server's environment without HF_TOKEN: the server gets a token only with the endpoint it is for. */
function serverEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['HF_TOKEN'];
  return env;
}

export function createLanguageClient(
  context: vscode.ExtensionContext,
  output: vscode.LogOutputChannel,
  hub: () => HubSecrets,
): LanguageClient {
  const serverModule = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc, options: { env: serverEnv() } },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { env: serverEnv(), execArgv: ['--nolazy', '--inspect=6029'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    outputChannel: output,
    // a function, so a restarted server gets the token current at its start
    initializationOptions: () => initializationOptions(hub()),
    // no `synchronize`: HubSecretsState pushes the typed settings on every change (pushSettings)
    errorHandler: crashHandler(output),
    middleware: {
      // one source per finding: JSON syntax errors are VS Code's own in JSON documents
      handleDiagnostics: (uri, diagnostics, next) => {
        const languageId = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.languageId;
        next(
          uri,
          diagnostics.filter((d) => !reportedByEditor(typeof d.code === 'object' ? d.code.value : d.code, languageId)),
        );
      },
    },
  };
  return new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
}
