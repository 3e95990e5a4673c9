// The quantstudio.* settings as one typed object: sent to the language server as initializationOptions
// at start and again on every change (workspace/didChangeConfiguration), and read by the job commands.
// Takes anything with VS Code's `get(key)`, so it has no run-time `vscode` import.
import type * as vscode from 'vscode';

export const SETTINGS_SECTION = 'quantstudio';

export interface QuantStudioSettings {
  validation: { enable: boolean; debounceMs: number };
  model: string;
  hub: { endpoint: string };
  estimate: { batchSize: number; contextLength: number };
  engine: { threads: number };
  runsFolder: string;
  benchmark: { batchSizes: number[] };
  generate: GenerateSettings;
}

export interface GenerateSettings {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  seed: number;
}

export const DEFAULT_BATCH_SIZES: readonly number[] = [1, 16];

/**
 * Reads the settings; a value of the wrong type (hand-edited settings.json) falls back to the default. The Hub
 * endpoint comes from the user's settings only (when `inspect` is there to tell): a workspace must not choose
 * where Hub requests go.
 */
export function readSettings(config: Pick<vscode.WorkspaceConfiguration, 'get'> & Partial<Pick<vscode.WorkspaceConfiguration, 'inspect'>>): QuantStudioSettings {
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
  const count = (key: string, fallback: number, min: number): number => {
    const v = num(key, fallback);
    return Number.isInteger(v) && v >= min ? v : fallback;
  };
  const userStr = (key: string, fallback: string): string => {
    const v = config.inspect ? config.inspect<unknown>(key)?.globalValue : config.get<unknown>(key);
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : fallback;
  };
  const inRange = (key: string, fallback: number, min: number, max: number): number => {
    const v = num(key, fallback);
    return v >= min && v <= max ? v : fallback;
  };
  return {
    validation: { enable: bool('validation.enable', true), debounceMs: num('validation.debounceMs', 150) },
    model: str('model', ''),
    hub: { endpoint: userStr('hub.endpoint', 'https://huggingface.co') },
    estimate: { batchSize: num('estimate.batchSize', 1), contextLength: num('estimate.contextLength', 2048) },
    engine: { threads: count('engine.threads', 0, 0) },
    runsFolder: str('runsFolder', '.quantstudio/runs'),
    benchmark: { batchSizes: batchSizes(config.get<unknown>('benchmark.batchSizes')) },
    generate: {
      maxTokens: count('generate.maxTokens', 64, 1),
      temperature: inRange('generate.temperature', 0, 0, 100),
      topK: count('generate.topK', 0, 0),
      topP: inRange('generate.topP', 1, 0, 1),
      seed: count('generate.seed', 0, 0),
    },
  };
}

/** Positive integers, sorted and without repeats; anything else (or an empty list) → the default [1, 16]. */
export function batchSizes(value: unknown): number[] {
  if (!Array.isArray(value)) return [...DEFAULT_BATCH_SIZES];
  const sizes = value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0);
  if (sizes.length === 0 || sizes.length !== value.length) return [...DEFAULT_BATCH_SIZES];
  return [...new Set(sizes)].sort((a, b) => a - b);
}
