// The runs folder of the open workspace (its first folder + quantstudio.runsFolder), where every job
// command saves its RunResult and the Runs view, Open Run, Compare Runs and Export Run read them.
import * as vscode from 'vscode';
import { runsFolder } from '../../jobs';
import { readSettings, SETTINGS_SECTION } from '../settings';

export interface RunsLocation {
  workspace: vscode.WorkspaceFolder;
  /** quantstudio.runsFolder, relative to the workspace folder. */
  relative: string;
  folder: string;
}

export function currentRunsLocation(): RunsLocation | undefined {
  const workspace = vscode.workspace.workspaceFolders?.[0];
  if (!workspace) return undefined;
  const relative = readSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION)).runsFolder;
  return { workspace, relative, folder: runsFolder(workspace.uri.fsPath, relative) };
}
