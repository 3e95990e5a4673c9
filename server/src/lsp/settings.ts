// Server settings: from initializationOptions at start, then from workspace/didChangeConfiguration.
import { DEFAULT_SETTINGS as SETTINGS } from '../protocol';
import { DEFAULT_ENDPOINT } from '../service';
import type { TokenGrant } from '../service';

export interface ServerSettings {
  validationEnabled: boolean;
  /** Delay after the last edit before a document is validated again (quantstudio.validation.debounceMs). */
  debounceMs: number;
  /** quantstudio.model: the model for configs that name none ('' = none). */
  model: string;
  /** quantstudio.hub.endpoint; HF_ENDPOINT still wins when set. */
  hubEndpoint: string | undefined;
  /** Hub token handed over by the client with the one endpoint it may be sent to; else HF_TOKEN for
   *  HF_ENDPOINT (or the public Hub). Never logged. */
  hubToken: TokenGrant | undefined;
  /** Folder (the client's storage) where resolved Hub answers are kept for offline use; none → memory only. */
  hubCacheDir: string | undefined;
  /** quantstudio.estimate.batchSize / contextLength. */
  batchSize: number;
  contextLength: number;
  /** quantstudio.engine.threads: a job file's estimate is for the CPU engine with this many threads (0 = one per hardware thread). */
  engineThreads: number;
  /** quantstudio.deploymentTargets (unknown names are dropped by the service). */
  deploymentTargets: string[];
}

export const DEFAULT_SETTINGS: ServerSettings = {
  validationEnabled: SETTINGS.validation.enable,
  debounceMs: SETTINGS.validation.debounceMs,
  model: SETTINGS.model,
  hubEndpoint: undefined,
  hubToken: undefined,
  hubCacheDir: undefined,
  batchSize: SETTINGS.estimate.batchSize,
  contextLength: SETTINGS.estimate.contextLength,
  engineThreads: SETTINGS.engine.threads,
  deploymentTargets: SETTINGS.deploymentTargets,
};

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function positiveInteger(value: unknown, current: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : current;
}

/**
 * `token` and `tokenEndpoint` only ever together: a message without `token` keeps the current grant, so a
 * stray endpoint can never be paired with a token given for another one. A token without an endpoint is for
 * the public Hub; an empty token removes the grant.
 */
function tokenGrant(hub: Record<string, unknown> | undefined, current: TokenGrant | undefined): TokenGrant | undefined {
  if (typeof hub?.token !== 'string') return current;
  const token = hub.token.trim();
  const endpoint = typeof hub.tokenEndpoint === 'string' && hub.tokenEndpoint.trim() ? hub.tokenEndpoint.trim() : DEFAULT_ENDPOINT;
  return token ? { token, endpoint } : undefined;
}

function text(value: unknown, current: string | undefined): string | undefined {
  return typeof value === 'string' ? value.trim() || undefined : current;
}

/**
 * Reads `{ validation: { enable, debounceMs }, model, hub: { endpoint, token, tokenEndpoint, answerCacheDir }, estimate: { batchSize, contextLength }, engine: { threads }, deploymentTargets }`,
 * also nested under `quantstudio` (as VS Code sends it), and a flat `debounceMs` for clients that pass plain
 * initializationOptions. Missing or invalid values keep `current`.
 */
export function readSettings(raw: unknown, current: ServerSettings): ServerSettings {
  const root = record(raw);
  const scope = record(root?.quantstudio) ?? root;
  const validation = record(scope?.validation);
  const hub = record(scope?.hub);
  const estimate = record(scope?.estimate);
  const threads = record(scope?.engine)?.threads;
  const debounce = validation?.debounceMs ?? scope?.debounceMs;
  const enable = validation?.enable;
  return {
    validationEnabled: typeof enable === 'boolean' ? enable : current.validationEnabled,
    debounceMs: typeof debounce === 'number' && Number.isFinite(debounce) && debounce >= 0 ? debounce : current.debounceMs,
    model: typeof scope?.model === 'string' ? scope.model.trim() : current.model,
    hubEndpoint: text(hub?.endpoint, current.hubEndpoint),
    hubToken: tokenGrant(hub, current.hubToken),
    hubCacheDir: text(hub?.answerCacheDir, current.hubCacheDir),
    batchSize: positiveInteger(estimate?.batchSize, current.batchSize),
    contextLength: positiveInteger(estimate?.contextLength, current.contextLength),
    engineThreads: typeof threads === 'number' && Number.isInteger(threads) && threads >= 0 ? threads : current.engineThreads,
    deploymentTargets: Array.isArray(scope?.deploymentTargets)
      ? scope.deploymentTargets.filter((t): t is string => typeof t === 'string')
      : current.deploymentTargets,
  };
}
