// The quantstudio.* settings as one typed object: sent to the language server as initializationOptions
// at start and again on every change (workspace/didChangeConfiguration), and read by the job commands.
// Takes anything with VS Code's `get(key)`, so it has no run-time `vscode` import.
import type * as vscode from 'vscode';
import { DEFAULT_SETTINGS, SETTINGS_SECTION } from '../../../server/src/protocol';
import type { GenerateSettings, QuantStudioSettings } from '../../../server/src/protocol';

export { SETTINGS_SECTION };
export type { GenerateSettings, QuantStudioSettings };

const d = DEFAULT_SETTINGS;

/**
 * Reads the settings; a value of the wrong type (hand-edited settings.json) falls back to the default. The Hub
 * endpoint, the endpoints allowed the token and the python backend's interpreter come from the user's settings
 * only (when `inspect` is there to tell): a workspace must not choose where Hub requests go, where the token may
 * go, nor which program runs.
 */
export function readSettings(
  config: Pick<vscode.WorkspaceConfiguration, 'get'> & Partial<Pick<vscode.WorkspaceConfiguration, 'inspect'>>,
): QuantStudioSettings {
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
  const userValue = (key: string): unknown => (config.inspect ? config.inspect<unknown>(key)?.globalValue : config.get<unknown>(key));
  const userStr = (key: string, fallback: string): string => {
    const v = userValue(key);
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : fallback;
  };
  /** A list of strings from the user's settings only; entries of another type are left out. */
  const userStrings = (key: string, fallback: readonly string[]): string[] => {
    const v = userValue(key);
    return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [...fallback];
  };
  const strings = (key: string, fallback: readonly string[]): string[] => {
    const v = config.get<unknown>(key);
    return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [...fallback];
  };
  const inRange = (key: string, fallback: number, min: number, max: number): number => {
    const v = num(key, fallback);
    return v >= min && v <= max ? v : fallback;
  };
  return {
    validation: {
      enable: bool('validation.enable', d.validation.enable),
      debounceMs: num('validation.debounceMs', d.validation.debounceMs),
    },
    model: str('model', d.model),
    hub: { endpoint: userStr('hub.endpoint', d.hub.endpoint), tokenEndpoints: userStrings('hub.tokenEndpoints', d.hub.tokenEndpoints) },
    estimate: {
      batchSize: num('estimate.batchSize', d.estimate.batchSize),
      contextLength: num('estimate.contextLength', d.estimate.contextLength),
    },
    engine: {
      threads: count('engine.threads', d.engine.threads, 0),
      kvCache: str('engine.kvCache', d.engine.kvCache) === 'fp16' ? 'fp16' : 'fp32',
      lmHead: str('engine.lmHead', d.engine.lmHead) === 'int8' ? 'int8' : 'stored',
      adapter: str('engine.adapter', d.engine.adapter).trim(),
    },
    python: userStr('python', d.python),
    runsFolder: str('runsFolder', d.runsFolder),
    benchmark: { batchSizes: batchSizes(config.get<unknown>('benchmark.batchSizes')) },
    generate: {
      maxTokens: count('generate.maxTokens', d.generate.maxTokens, 1),
      temperature: inRange('generate.temperature', d.generate.temperature, 0, 100),
      topK: count('generate.topK', d.generate.topK, 0),
      topP: inRange('generate.topP', d.generate.topP, 0, 1),
      seed: count('generate.seed', d.generate.seed, 0),
      backend: str('generate.backend', d.generate.backend) === 'python' ? 'python' : 'engine',
    },
    deploymentTargets: strings('deploymentTargets', d.deploymentTargets),
  };
}

/** Positive integers, sorted and without repeats; anything else (or an empty list) → the default [1, 16]. */
export function batchSizes(value: unknown): number[] {
  if (!Array.isArray(value)) return [...d.benchmark.batchSizes];
  const sizes = value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0);
  if (sizes.length === 0 || sizes.length !== value.length) return [...d.benchmark.batchSizes];
  return [...new Set(sizes)].sort((a, b) => a - b);
}
