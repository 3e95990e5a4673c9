// Server settings: from initializationOptions at start, then from workspace/didChangeConfiguration.
export interface ServerSettings {
  validationEnabled: boolean;
  /** Delay after the last edit before a document is validated again (quantstudio.validation.debounceMs). */
  debounceMs: number;
}

export const DEFAULT_SETTINGS: ServerSettings = { validationEnabled: true, debounceMs: 150 };

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Reads `{ validation: { enable, debounceMs } }`, also nested under `quantstudio` (as VS Code sends it), and a
 * flat `debounceMs` for clients that pass plain initializationOptions. Missing or invalid values keep `current`.
 */
export function readSettings(raw: unknown, current: ServerSettings): ServerSettings {
  const root = record(raw);
  const scope = record(root?.quantstudio) ?? root;
  const validation = record(scope?.validation);
  const debounce = validation?.debounceMs ?? scope?.debounceMs;
  const enable = validation?.enable;
  return {
    validationEnabled: typeof enable === 'boolean' ? enable : current.validationEnabled,
    debounceMs: typeof debounce === 'number' && Number.isFinite(debounce) && debounce >= 0 ? debounce : current.debounceMs,
  };
}
