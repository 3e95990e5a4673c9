// The interpreter a job on the python backend runs in: the Python extension's active environment for the
// workspace when that extension is installed (its environments API; optional, never required), else the
// quantstudio.python user setting, else python3 on PATH. Only a trusted workspace runs jobs at all, and the
// setting is read from user settings only, so a cloned repository cannot choose the program that runs.
import * as vscode from 'vscode';

const PYTHON_EXTENSION = 'ms-python.python';

export interface Interpreter {
  path: string;
  /** Where it came from, for the log. */
  from: string;
}

/** The subset of the Python extension's API read here (its `environments` API). */
interface PythonEnvironmentsApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment?(env: { path: string }): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
}

async function fromPythonExtension(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonEnvironmentsApi>(PYTHON_EXTENSION);
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const active = api?.environments?.getActiveEnvironmentPath?.(resource);
    if (!active) return undefined;
    const resolved = await api?.environments?.resolveEnvironment?.(active);
    return resolved?.executable?.uri?.fsPath ?? active.path;
  } catch {
    return undefined; // an extension that fails to answer leaves the choice to the setting
  }
}

export async function pythonInterpreter(userSetting: string, resource?: vscode.Uri): Promise<Interpreter> {
  const fromExtension = await fromPythonExtension(resource);
  if (fromExtension) return { path: fromExtension, from: `the Python extension's active environment` };
  if (userSetting !== '') return { path: userSetting, from: 'the quantstudio.python setting' };
  return { path: 'python3', from: 'PATH' };
}
