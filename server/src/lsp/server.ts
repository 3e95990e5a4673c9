// The QuantStudio language server over stdio (--stdio) or IPC (--node-ipc, as the extension starts it),
// built on vscode-languageserver. Transport glue only: every answer comes from the transport-agnostic
// service in ../service. It never loads the native engine: a native crash must never cost the editor.
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import type { Connection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { createLanguageService } from '../service';
import type { LanguageService, TextDocumentInput } from '../service';
import { DEFAULT_SETTINGS, readSettings } from './settings';
import type { ServerSettings } from './settings';

const connection: Connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let settings: ServerSettings = DEFAULT_SETTINGS;
let service: LanguageService | undefined;
let startupError: string | undefined;
let workspaceDir: string | undefined;
let canRefreshLenses = false;

try {
  service = createLanguageService({ models: {} });
} catch (error) {
  startupError = error instanceof Error ? error.message : String(error);
}

function input(document: TextDocument): TextDocumentInput {
  return { uri: document.uri, text: document.getText(), version: document.version };
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Runs a request against the service; a failure is logged and answered with `fallback`, never a crash. */
async function guarded<T>(what: string, fallback: T, work: (service: LanguageService) => Promise<T>): Promise<T> {
  if (!service) return fallback;
  try {
    return await work(service);
  } catch (error) {
    connection.console.error(`${what} failed: ${describe(error)}`);
    return fallback;
  }
}

// ---- diagnostics, debounced per document; stale results (an older version) are dropped ----
// Validations run one at a time, the document validated longest ago first, and a document whose last
// validation was slow waits as long again after an edit: a huge or pathological file never holds up the rest.

const pending = new Map<string, NodeJS.Timeout>();
const queue = new Set<string>();
const lastRun = new Map<string, { finished: number; cost: number }>();
let draining = false;
/** Validations faster than this keep the plain debounce. */
const SLOW_MS = 100;

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    while (queue.size > 0) {
      await new Promise((resolve) => setImmediate(resolve)); // let waiting messages (edits, opens) in first
      let next: string | undefined;
      for (const uri of queue) if (next === undefined || (lastRun.get(uri)?.finished ?? 0) < (lastRun.get(next)?.finished ?? 0)) next = uri;
      if (next === undefined) break;
      queue.delete(next);
      const started = performance.now();
      await validate(next);
      if (documents.get(next)) lastRun.set(next, { finished: performance.now(), cost: performance.now() - started });
    }
  } finally {
    draining = false;
  }
}

function enqueue(uri: string): void {
  queue.add(uri);
  void drain();
}

async function validate(uri: string): Promise<void> {
  const document = documents.get(uri);
  if (!document) return;
  const version = document.version;
  const analysis = settings.validationEnabled
    ? await guarded(`validating ${uri}`, undefined, (s) => s.analyze(input(document)))
    : undefined;
  const latest = documents.get(uri);
  if (!latest || latest.version !== version) return;
  await connection.sendDiagnostics({ uri, version, diagnostics: analysis?.diagnostics ?? [] });
  // The target model was still resolving: publish again (with the model-aware findings) once it is known.
  if (analysis?.modelPending) void analysis.modelPending.then((found) => found && modelResolved(uri));
}

function modelResolved(uri: string): void {
  if (documents.get(uri)) schedule(uri);
  if (canRefreshLenses) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
}

/** Hands the model and estimate settings to the service (Hub settings that change drop resolved Hub models). */
function configureModels(): void {
  service?.configureModels({
    model: settings.model,
    workspaceDir,
    batchSize: settings.batchSize,
    contextLength: settings.contextLength,
    threads: settings.engineThreads,
    deploymentTargets: settings.deploymentTargets,
    hub: { endpoint: settings.hubEndpoint, token: settings.hubToken, cacheDir: settings.hubCacheDir },
  });
}

function folderOf(uri: string | null | undefined): string | undefined {
  if (!uri?.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

function schedule(uri: string): void {
  clearTimeout(pending.get(uri));
  pending.delete(uri);
  const cost = lastRun.get(uri)?.cost ?? 0;
  const delay = Math.max(settings.debounceMs, cost > SLOW_MS ? cost : 0);
  if (delay <= 0) {
    enqueue(uri);
    return;
  }
  pending.set(
    uri,
    setTimeout(() => {
      pending.delete(uri);
      enqueue(uri);
    }, delay),
  );
}

connection.onInitialize((params) => {
  settings = readSettings(params.initializationOptions, settings);
  workspaceDir = folderOf(params.workspaceFolders?.[0]?.uri ?? params.rootUri);
  canRefreshLenses = params.capabilities.workspace?.codeLens?.refreshSupport === true;
  configureModels();
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ['"', '='], resolveProvider: false },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      documentSymbolProvider: true,
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'quantstudio', version: '0.1.0' },
  };
});

connection.onInitialized(() => {
  if (startupError) void connection.window.showErrorMessage(`QuantStudio validation is off: ${startupError}`);
});

connection.onDidChangeConfiguration((change) => {
  settings = readSettings(change.settings, settings);
  configureModels();
  for (const document of documents.all()) schedule(document.uri);
});

documents.onDidChangeContent((change) => schedule(change.document.uri));

documents.onDidClose((event) => {
  clearTimeout(pending.get(event.document.uri));
  pending.delete(event.document.uri);
  queue.delete(event.document.uri);
  lastRun.delete(event.document.uri);
  void connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] });
});

// ---- features ----

connection.onCompletion((params) => {
  const document = documents.get(params.textDocument.uri);
  return document ? guarded('completion', [], (s) => s.complete(input(document), params.position)) : [];
});

connection.onHover((params) => {
  const document = documents.get(params.textDocument.uri);
  return document ? guarded('hover', null, (s) => s.hover(input(document), params.position)) : null;
});

connection.onCodeAction((params) => {
  const document = documents.get(params.textDocument.uri);
  return document ? guarded('code actions', [], (s) => s.codeActions(input(document), params.range, params.context.diagnostics)) : [];
});

connection.onDocumentSymbol((params) => {
  const document = documents.get(params.textDocument.uri);
  return document ? guarded('document symbols', [], (s) => s.symbols(input(document))) : [];
});

connection.onCodeLens((params) => {
  const document = documents.get(params.textDocument.uri);
  return document ? guarded('code lenses', [], (s) => s.codeLenses(input(document))) : [];
});

// A bug in one request must not take the server (and every open editor's diagnostics) down.
process.on('uncaughtException', (error) => connection.console.error(`unexpected error: ${describe(error)}`));
process.on('unhandledRejection', (error) => connection.console.error(`unexpected rejection: ${describe(error)}`));

documents.listen(connection);
connection.listen();
