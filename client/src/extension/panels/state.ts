// What a panel persists across window reloads (the webview's setState; VS Code hands it to the serializer):
// file paths and settings only, never the results themselves, so a restored panel re-reads its run from disk.
import type { RunResult } from '../../jobs';
import type { GenerateSettings } from './generateView';

export type PanelState =
  | { view: 'run'; runFile: string; settings?: GenerateSettings }
  | { view: 'live'; kind: RunResult['kind']; title: string; settings?: GenerateSettings; failed?: string }
  | { view: 'compare'; a: string; b: string };

const KINDS: ReadonlyArray<RunResult['kind']> = ['quantize', 'benchmark', 'generate', 'perplexity'];
const SETTING_NUMBERS = ['maxTokens', 'temperature', 'topK', 'topP', 'seed'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Keeps only the well-typed settings (a state comes back from the webview, so it is checked, not trusted). */
export function parseSettings(value: unknown): GenerateSettings | undefined {
  if (!isObject(value)) return undefined;
  const settings: GenerateSettings = {};
  if (typeof value.prompt === 'string') settings.prompt = value.prompt;
  for (const key of SETTING_NUMBERS) {
    const v = value[key];
    if (typeof v === 'number' && Number.isFinite(v)) settings[key] = v;
  }
  return settings;
}

export function parsePanelState(value: unknown): PanelState | undefined {
  if (!isObject(value)) return undefined;
  const settings = parseSettings(value.settings);
  const withSettings = settings === undefined ? {} : { settings };
  if (value.view === 'run' && isText(value.runFile)) return { view: 'run', runFile: value.runFile, ...withSettings };
  if (value.view === 'live' && KINDS.includes(value.kind as RunResult['kind']) && typeof value.title === 'string') {
    const failed = typeof value.failed === 'string' ? { failed: value.failed } : {};
    return { view: 'live', kind: value.kind as RunResult['kind'], title: value.title, ...withSettings, ...failed };
  }
  if (value.view === 'compare' && isText(value.a) && isText(value.b)) return { view: 'compare', a: value.a, b: value.b };
  return undefined;
}
