// The quantstudio.* settings as one typed object: sent to the language server as initializationOptions
// at start and again on every change (workspace/didChangeConfiguration).
import type * as vscode from 'vscode';

export const SETTINGS_SECTION = 'quantstudio';

export interface QuantStudioSettings {
  validation: { enable: boolean; debounceMs: number };
  model: string;
  hub: { endpoint: string };
  estimate: { batchSize: number; contextLength: number };
  engine: { threads: number };
  runsFolder: string;
}

/** Reads the settings; a value of the wrong type (hand-edited settings.json) falls back to the default. */
export function readSettings(config: vscode.WorkspaceConfiguration): QuantStudioSettings {
  const bool = (key: string, fallback: boolean): boolean => {
    const v = config.get<unknown>(key);
    return typeof v === 'boolean' ? v : fallback;
  };
  const num = (key: string, fallback: number): number => {
    const v = config.get<unknown>(key);
    return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  };
  const str = (key: string, fallback: string): string => {
    const v = config.get<unknown>(key);
    return typeof v === 'string' ? v : fallback;
  };
  return {
    validation: { enable: bool('validation.enable', true), debounceMs: num('validation.debounceMs', 150) },
    model: str('model', ''),
    hub: { endpoint: str('hub.endpoint', 'https://huggingface.co') },
    estimate: { batchSize: num('estimate.batchSize', 1), contextLength: num('estimate.contextLength', 2048) },
    engine: { threads: num('engine.threads', 0) },
    runsFolder: str('runsFolder', '.quantstudio/runs'),
  };
}
