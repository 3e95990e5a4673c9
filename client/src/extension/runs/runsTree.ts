// The "Runs" view: the saved RunResults of the runs folder, newest first, kept current by a file system
// watcher (and rebuilt when quantstudio.runsFolder changes). A file that is not a readable run shows as
// an error entry naming it; nothing in the folder can make the view fail.
import * as vscode from 'vscode';
import { COMMANDS } from '../../../../server/src/protocol';
import { runNodes, type RunNode } from './runNodes';
import { currentRunsLocation } from './runsFolder';

export const RUNS_VIEW_ID = 'quantstudio.runs';

const KIND_ICONS: Record<string, string> = {
  quantize: 'package',
  benchmark: 'dashboard',
  generate: 'comment-discussion',
  perplexity: 'graph-line',
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    this.watch();
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('quantstudio.runsFolder')) {
          this.watch();
          this.refresh();
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.watch();
        this.refresh();
      }),
    );
  }

  refresh(): void {
    this.changed.fire();
  }

  private watch(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
    const location = currentRunsLocation();
    if (!location) return;
    // relative to the workspace folder, so the watcher also sees the runs folder being created later
    const glob = `${location.relative.replace(/\\/g, '/').replace(/\/+$/, '')}/*.json`;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(location.workspace, glob));
    this.watcher.onDidCreate(() => this.refresh());
    this.watcher.onDidChange(() => this.refresh());
    this.watcher.onDidDelete(() => this.refresh());
  }

  getChildren(element?: RunNode): RunNode[] {
    if (element) return [];
    const location = currentRunsLocation();
    return location ? runNodes(location.folder) : [];
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.resourceUri = vscode.Uri.file(node.file);
    if (node.type === 'run') {
      item.contextValue = 'quantstudio.run';
      item.iconPath = new vscode.ThemeIcon(KIND_ICONS[node.run.kind] ?? 'file');
      item.command = { command: COMMANDS.openRun, title: 'Open Run', arguments: [node] };
    } else {
      item.contextValue = 'quantstudio.brokenRun';
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
      item.command = { command: 'vscode.open', title: 'Open File', arguments: [vscode.Uri.file(node.file)] };
    }
    return item;
  }

  dispose(): void {
    this.watcher?.dispose();
    this.subscriptions.forEach((s) => s.dispose());
    this.changed.dispose();
  }
}
