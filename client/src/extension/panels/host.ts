// The vscode side of the panels: creates, reveals and restores webview panels, sets their pages and turns the
// pages' button messages into commands. One run panel per run file; one compare panel per pair of files.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { JobProgress, RunResult } from '../../jobs';
import { readRun } from '../../jobs';
import { adviceTitle, advicePage, AdviceInput, EVALUATE_ACTION, WRITE_ACTION_PREFIX } from './adviceView';
import { compareInput, CompareSide } from './compareView';
import { GenerateSettings } from './generateView';
import { layerCells, LiveLog, LiveMessage, progressText, TokenRate } from './live';
import {
  compareTitle,
  comparePage,
  interruptedLivePage,
  livePage,
  liveTitle,
  LiveView,
  missingComparePage,
  missingRunPage,
  runPage,
  runTitle,
} from './pages';
import { PANEL_ACTIONS, PanelAction } from './quantizeView';
import { PanelState, parsePanelState } from './state';

export const RUN_PANEL_VIEW_TYPE = 'quantstudio.run';
export const COMPARE_PANEL_VIEW_TYPE = 'quantstudio.compare';
export const ADVICE_PANEL_VIEW_TYPE = 'quantstudio.advice';

/** Scripts on (the page's one nonce-tagged script), no local files at all: the pages are self-contained. */
const WEBVIEW_OPTIONS: vscode.WebviewOptions = { enableScripts: true, localResourceRoots: [] };

const runPanels = new Map<string, vscode.WebviewPanel>();
const comparePanels = new Map<string, vscode.WebviewPanel>();
const messageListeners = new WeakMap<vscode.WebviewPanel, vscode.Disposable>();

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const pageContext = (panel: vscode.WebviewPanel) => ({ cspSource: panel.webview.cspSource });

/** A saved run is known by its file; an unsaved one ("not saved") by its id. */
function runKey(run: RunResult, runFile: string): string {
  return fs.existsSync(runFile) ? path.resolve(runFile) : `unsaved:${run.id}`;
}

function track(panels: Map<string, vscode.WebviewPanel>, key: string, panel: vscode.WebviewPanel): void {
  if (panels.get(key) === panel) return;
  panels.set(key, panel);
  panel.onDidDispose(() => {
    if (panels.get(key) === panel) panels.delete(key);
  });
}

function listen(panel: vscode.WebviewPanel, handler: (message: unknown) => void): void {
  messageListeners.get(panel)?.dispose();
  messageListeners.set(panel, panel.webview.onDidReceiveMessage(handler));
}

/** A button's message runs the matching command on the run's output folder; the page only names the action. */
function runAction(message: unknown, run: RunResult): void {
  if (typeof message !== 'object' || message === null) return;
  const { type, action } = message as { type?: unknown; action?: unknown };
  if (type !== 'action' || !PANEL_ACTIONS.includes(action as PanelAction)) return;
  const folder = run.output?.folder;
  if (!folder) return;
  const command = `quantstudio.${action as PanelAction}`;
  vscode.commands.executeCommand(command, { model: folder }).then(undefined, (error: unknown) => {
    void vscode.window.showErrorMessage(`QuantStudio: could not run ${command} on ${folder}: ${errorText(error)}`);
  });
}

/** Shows a finished run in `panel` (new, restored or live) and makes it the panel of that run file. */
function attachRun(panel: vscode.WebviewPanel, run: RunResult, runFile: string, settings?: GenerateSettings): void {
  track(runPanels, runKey(run, runFile), panel);
  panel.title = runTitle(run);
  panel.webview.html = runPage({ run, runFile, ...(settings ? { settings } : {}) }, pageContext(panel));
  listen(panel, (message) => runAction(message, run));
}

export function showRun(run: RunResult, runFile: string, settings?: GenerateSettings): vscode.WebviewPanel {
  const existing = runPanels.get(runKey(run, runFile));
  if (existing) {
    attachRun(existing, run, runFile, settings);
    existing.reveal();
    return existing;
  }
  const panel = vscode.window.createWebviewPanel(RUN_PANEL_VIEW_TYPE, runTitle(run), vscode.ViewColumn.Active, WEBVIEW_OPTIONS);
  attachRun(panel, run, runFile, settings);
  return panel;
}

/** Why a run file cannot be shown, or its run. */
function loadRun(runFile: string): RunResult | string {
  if (!fs.existsSync(runFile)) return `The run file ${runFile} no longer exists: it was moved or deleted.`;
  try {
    return readRun(runFile);
  } catch (error) {
    return errorText(error);
  }
}

function restoreRun(panel: vscode.WebviewPanel, state: Extract<PanelState, { view: 'run' }>): void {
  const run = loadRun(state.runFile);
  if (typeof run === 'string') {
    panel.title = 'QuantStudio: run not available';
    panel.webview.html = missingRunPage(state.runFile, run, pageContext(panel), state.settings);
  } else {
    attachRun(panel, run, state.runFile, state.settings);
  }
}

export function showCompare(a: CompareSide, b: CompareSide): vscode.WebviewPanel {
  const key = `${path.resolve(a.file)}\n${path.resolve(b.file)}`;
  const input = compareInput(a, b);
  let panel = comparePanels.get(key);
  if (panel) panel.reveal();
  else {
    panel = vscode.window.createWebviewPanel(COMPARE_PANEL_VIEW_TYPE, compareTitle(input), vscode.ViewColumn.Active, WEBVIEW_OPTIONS);
    track(comparePanels, key, panel);
  }
  panel.title = compareTitle(input);
  panel.webview.html = comparePage(input, pageContext(panel));
  return panel;
}

function restoreCompare(panel: vscode.WebviewPanel, state: Extract<PanelState, { view: 'compare' }>): void {
  const [a, b] = [loadRun(state.a), loadRun(state.b)];
  if (typeof a === 'string' || typeof b === 'string') {
    panel.title = 'QuantStudio: comparison not available';
    panel.webview.html = missingComparePage(
      state.a,
      state.b,
      [a, b].filter((r): r is string => typeof r === 'string'),
      pageContext(panel),
    );
    return;
  }
  const input = compareInput({ run: a, file: state.a }, { run: b, file: state.b });
  track(comparePanels, `${path.resolve(state.a)}\n${path.resolve(state.b)}`, panel);
  panel.title = compareTitle(input);
  panel.webview.html = comparePage(input, pageContext(panel));
}

/** A panel that follows a running job live and turns into the run's panel when it finishes. */
export interface LiveRunPanel {
  progress(p: JobProgress): void;
  token(text: string): void;
  finish(run: RunResult, runFile: string): void;
  fail(message: string): void;
  readonly disposed: boolean;
  onDidDispose(listener: () => void): vscode.Disposable;
}

class LivePanel implements LiveRunPanel {
  private readonly panel: vscode.WebviewPanel;
  private readonly rate = new TokenRate();
  private readonly log = new LiveLog();
  /** Whether the page's script runs: messages sent before would be lost, so they wait in the log. */
  private pageReady = false;
  private isDisposed = false;
  private finished = false;

  constructor(private readonly view: LiveView) {
    // Live messages to a hidden webview would be lost, so its page is kept while hidden.
    this.panel = vscode.window.createWebviewPanel(RUN_PANEL_VIEW_TYPE, liveTitle(view), vscode.ViewColumn.Active, {
      ...WEBVIEW_OPTIONS,
      retainContextWhenHidden: true,
    });
    this.panel.onDidDispose(() => (this.isDisposed = true));
    listen(this.panel, (message) => this.onPageMessage(message));
    this.panel.webview.html = livePage(view, pageContext(this.panel));
  }

  /** A page that (re)loaded gets everything so far, in order, then the rest as it comes. */
  private onPageMessage(message: unknown): void {
    if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'ready' || this.finished) return;
    this.pageReady = true;
    for (const m of this.log.replay()) void this.panel.webview.postMessage(m);
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  private post(message: LiveMessage): void {
    if (this.isDisposed || this.finished) return;
    this.log.add(message);
    if (this.pageReady) void this.panel.webview.postMessage(message);
  }

  progress(p: JobProgress): void {
    this.post({ type: 'progress', text: progressText(p), current: p.current, total: p.total });
    const cells = layerCells(p);
    if (cells) this.post({ type: 'layer', cells });
  }

  token(text: string): void {
    this.rate.add();
    const count = this.rate.tokens;
    const max = this.view.settings?.maxTokens;
    this.post({ type: 'token', text, count: String(count), rate: this.rate.text });
    this.post({
      type: 'progress',
      text: `generating: ${count}${max === undefined ? '' : `/${max}`} tokens`,
      current: count,
      total: max ?? count,
    });
  }

  finish(run: RunResult, runFile: string): void {
    if (this.isDisposed) return;
    this.finished = true;
    attachRun(this.panel, run, runFile, this.view.settings);
  }

  fail(message: string): void {
    this.post({ type: 'fail', message });
  }

  onDidDispose(listener: () => void): vscode.Disposable {
    return this.panel.onDidDispose(listener);
  }
}

/** What the advice panel's buttons ask for: a row's job file, or evaluating the first picks. */
export interface AdviceHandlers {
  write(id: string): void;
  evaluate(): void;
}

/** The advisor's ranking; returns a function that shows it again with what changed (the evaluated perplexities). */
export function showAdvice(input: AdviceInput, handlers: AdviceHandlers): (next: AdviceInput) => void {
  const panel = vscode.window.createWebviewPanel(
    ADVICE_PANEL_VIEW_TYPE,
    adviceTitle(input.model),
    vscode.ViewColumn.Active,
    WEBVIEW_OPTIONS,
  );
  panel.webview.html = advicePage(input, pageContext(panel));
  listen(panel, (message) => {
    const { type, action } = (message ?? {}) as { type?: unknown; action?: unknown };
    if (type !== 'action' || typeof action !== 'string') return;
    if (action === EVALUATE_ACTION) return handlers.evaluate();
    if (!action.startsWith(WRITE_ACTION_PREFIX)) return;
    const id = action.slice(WRITE_ACTION_PREFIX.length);
    if (input.rows.some((a) => a.id === id && a.row.config)) handlers.write(id);
  });
  let disposed = false;
  panel.onDidDispose(() => (disposed = true));
  return (next) => {
    if (!disposed) panel.webview.html = advicePage(next, pageContext(panel));
  };
}

export function openLive(view: LiveView): LiveRunPanel {
  return new LivePanel(view);
}

class PanelSerializer implements vscode.WebviewPanelSerializer {
  constructor(private readonly restore: (panel: vscode.WebviewPanel, state: PanelState | undefined) => void) {}

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    panel.webview.options = WEBVIEW_OPTIONS;
    this.restore(panel, parsePanelState(state));
  }
}

export function registerSerializers(): vscode.Disposable {
  const run = new PanelSerializer((panel, state) => {
    if (state?.view === 'run') restoreRun(panel, state);
    else if (state?.view === 'live') panel.webview.html = interruptedLivePage(state, pageContext(panel));
    // a panel from before state was kept has nothing to restore from
    else panel.dispose();
  });
  const compare = new PanelSerializer((panel, state) => {
    if (state?.view === 'compare') restoreCompare(panel, state);
    else panel.dispose();
  });
  return vscode.Disposable.from(
    vscode.window.registerWebviewPanelSerializer(RUN_PANEL_VIEW_TYPE, run),
    vscode.window.registerWebviewPanelSerializer(COMPARE_PANEL_VIEW_TYPE, compare),
  );
}
