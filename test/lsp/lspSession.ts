// Drives the real language server (out/server/src/lsp/server.js) over stdio or IPC with the real protocol
// client (vscode-languageserver-protocol), for the protocol tests and the latency benchmark.
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  CodeActionRequest,
  CompletionRequest,
  DidChangeConfigurationNotification,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentSymbolRequest,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  IPCMessageReader,
  IPCMessageWriter,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import type {
  CodeAction,
  CompletionItem,
  CompletionList,
  Diagnostic,
  DocumentSymbol,
  Hover,
  InitializeResult,
  Position,
  ProtocolConnection,
  PublishDiagnosticsParams,
  Range,
  SymbolInformation,
  TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol/node';

export const SERVER_PATH = join(__dirname, '..', '..', 'server', 'src', 'lsp', 'server.js');

interface Waiter {
  uri: string;
  version: number | undefined;
  resolve(params: PublishDiagnosticsParams): void;
}

/** A server environment whose HF cache is an empty folder under `temp` and which has no ambient Hub settings,
 *  so the Hub endpoint and token come from initializationOptions (or from `extra`). */
export function isolatedHubEnv(temp: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HF_HUB_CACHE: join(temp, 'hf-cache') };
  for (const key of ['HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE']) delete env[key];
  return { ...env, ...extra };
}

export class LspSession {
  private readonly received = new Map<string, PublishDiagnosticsParams[]>();
  private waiters: Waiter[] = [];
  private readonly exited: Promise<number | null>;
  private readonly versions = new Map<string, number>();

  private constructor(
    readonly connection: ProtocolConnection,
    readonly child: ChildProcess,
    readonly initializeResult: InitializeResult,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** A stdio server whose Hub settings (endpoint, token, …) come from initializationOptions, in the environment `env`. */
  static startOnHub(env: NodeJS.ProcessEnv, hub: Record<string, string>): Promise<LspSession> {
    return LspSession.start({ env, initializationOptions: { quantstudio: { validation: { debounceMs: 0 }, hub } } });
  }

  /** Starts the server and runs initialize/initialized; debounce 0 so diagnostics follow each change at once. */
  static async start(
    options: { transport?: 'stdio' | 'ipc'; initializationOptions?: unknown; serverPath?: string; env?: NodeJS.ProcessEnv } = {},
  ): Promise<LspSession> {
    const transport = options.transport ?? 'stdio';
    const serverPath = options.serverPath ?? SERVER_PATH;
    // Tests never reach the real Hub: HF_HUB_OFFLINE unless a test gives the server its own environment.
    const env = options.env ?? { ...process.env, HF_HUB_OFFLINE: '1' };
    const child =
      transport === 'stdio'
        ? spawn(process.execPath, [serverPath, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env })
        : fork(serverPath, ['--node-ipc'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env });
    const connection =
      transport === 'stdio'
        ? createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!))
        : createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    const pendingDiagnostics: PublishDiagnosticsParams[] = [];
    let session: LspSession | undefined;
    connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      if (session) session.accept(params);
      else pendingDiagnostics.push(params);
    });
    connection.listen();
    const initializeResult = await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: options.initializationOptions ?? { quantstudio: { validation: { debounceMs: 0 } } },
    });
    await connection.sendNotification(InitializedNotification.type, {});
    session = new LspSession(connection, child, initializeResult);
    pendingDiagnostics.forEach((params) => session?.accept(params));
    return session;
  }

  private accept(params: PublishDiagnosticsParams): void {
    const list = this.received.get(params.uri) ?? [];
    list.push(params);
    this.received.set(params.uri, list);
    const ready = this.waiters.filter((w) => w.uri === params.uri && (w.version === undefined || w.version === params.version));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    ready.forEach((w) => w.resolve(params));
  }

  /** The next publishDiagnostics for a document version (already received ones count). */
  diagnostics(uri: string, version?: number, timeoutMs = 10_000): Promise<Diagnostic[]> {
    const already = (this.received.get(uri) ?? []).find((p) => version === undefined || p.version === version);
    if (already) return Promise.resolve(already.diagnostics);
    return this.waitFor(uri, version, timeoutMs, `no diagnostics for ${uri} version ${String(version)} within ${timeoutMs} ms`);
  }

  private waitFor(uri: string, version: number | undefined, timeoutMs: number, timeoutMessage: string): Promise<Diagnostic[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(timeoutMessage)), timeoutMs);
      this.waiters.push({
        uri,
        version,
        resolve: (params) => {
          clearTimeout(timer);
          resolve(params.diagnostics);
        },
      });
    });
  }

  async open(uri: string, text: string, languageId = uri.endsWith('.py') ? 'python' : 'json'): Promise<Diagnostic[]> {
    this.versions.set(uri, 1);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version: 1, text } });
    return this.diagnostics(uri, 1);
  }

  /** Sends a change and returns the diagnostics of the new version. */
  async change(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<Diagnostic[]> {
    return this.diagnostics(uri, await this.sendChange(uri, changes));
  }

  /** Sends a change without waiting for diagnostics; returns the new version. */
  async sendChange(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version },
      contentChanges: changes,
    });
    return version;
  }

  /** Every publishDiagnostics received so far for a document, oldest first. */
  published(uri: string): PublishDiagnosticsParams[] {
    return [...(this.received.get(uri) ?? [])];
  }

  /** The next publishDiagnostics for a document, ignoring those already received. */
  nextDiagnostics(uri: string, timeoutMs = 10_000): Promise<Diagnostic[]> {
    return this.waitFor(uri, undefined, timeoutMs, `no new diagnostics for ${uri} within ${timeoutMs} ms`);
  }

  /** The latest publish for a document once it holds a diagnostic with `code` (already received ones count). */
  async publishedWith(uri: string, code: string, timeoutMs = 10_000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = this.published(uri).at(-1);
      if (last?.diagnostics.some((d) => d.code === code)) return last.diagnostics;
      await this.nextDiagnostics(uri, Math.max(1, deadline - Date.now()));
    }
  }

  async completion(uri: string, position: Position): Promise<CompletionItem[]> {
    const result: CompletionItem[] | CompletionList | null = await this.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri },
      position,
    });
    return Array.isArray(result) ? result : (result?.items ?? []);
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
  }

  async codeActions(uri: string, range: Range, diagnostics: Diagnostic[]): Promise<CodeAction[]> {
    const result = await this.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range, context: { diagnostics } });
    return (result ?? []).filter((a): a is CodeAction => 'title' in a && !('command' in a && typeof a.command === 'string'));
  }

  async symbols(uri: string): Promise<DocumentSymbol[]> {
    const result: DocumentSymbol[] | SymbolInformation[] | null = await this.connection.sendRequest(DocumentSymbolRequest.type, {
      textDocument: { uri },
    });
    return (result ?? []).filter((s): s is DocumentSymbol => 'selectionRange' in s);
  }

  async configure(settings: unknown): Promise<void> {
    await this.connection.sendNotification(DidChangeConfigurationNotification.type, { settings });
  }

  /** shutdown + exit; resolves with the server's exit code. */
  async stop(): Promise<number | null> {
    await this.connection.sendRequest(ShutdownRequest.type);
    await this.connection.sendNotification(ExitNotification.type);
    const code = await this.exited;
    this.connection.dispose();
    return code;
  }

  /** Ends the server process without the protocol (after a failed test). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
    this.connection.dispose();
  }
}
