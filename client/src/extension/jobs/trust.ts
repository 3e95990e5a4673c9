// Jobs run the native engine on the workspace's files (models, configs, text), so they need a trusted
// workspace; validation keeps working everywhere (package.json capabilities.untrustedWorkspaces: limited).
import * as vscode from 'vscode';

/** The refusal shown in an untrusted workspace; `action` is what the command would do ("quantizing"). */
export function untrustedMessage(action: string): string {
  return `QuantStudio: ${action} runs the native engine on this workspace's files, so it needs a trusted workspace. Trust it with "Workspaces: Manage Workspace Trust" and run the command again.`;
}

/** True in a trusted workspace; otherwise says why the command stops and returns false. */
export function ensureTrusted(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showErrorMessage(untrustedMessage(action));
  return false;
}
