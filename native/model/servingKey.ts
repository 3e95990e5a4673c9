// Which API key goes to a serving benchmark's endpoint. The endpoint comes from a job file, which a cloned
// repository may have written; the key comes only from the user (the editor's secret store, or the shell's
// environment), given for one endpoint, and is sent to exactly that endpoint, over https or to this machine.
import { normalizeEndpoint, tokenFor } from './tokenGrant';
import type { TokenGrant } from './tokenGrant';

/** An OpenAI API base: http(s), no credentials, query or fragment; a bare host means its /v1. Undefined when not one. */
export function apiBase(url: string): string | undefined {
  const normalized = normalizeEndpoint(url);
  if (normalized === undefined) return undefined;
  return new URL(normalized).pathname === '/' ? `${normalized}/v1` : normalized;
}

/** The worker's environment: the key and the one endpoint it was given for. */
export const SERVING_KEY_ENV = 'QUANTSTUDIO_SERVING_API_KEY';
export const SERVING_ENDPOINT_ENV = 'QUANTSTUDIO_SERVING_ENDPOINT';

export function servingGrant(env: NodeJS.ProcessEnv): TokenGrant | undefined {
  const token = env[SERVING_KEY_ENV]?.trim();
  const endpoint = env[SERVING_ENDPOINT_ENV]?.trim();
  return token && endpoint ? { token, endpoint } : undefined;
}

/** The grant's key when it was given for exactly this API base (named with or without its /v1), else undefined. */
export function grantedKey(base: string, grant: TokenGrant | undefined): string | undefined {
  if (!grant) return undefined;
  const named = grant.endpoint.replace(/\/+$/, '');
  return tokenFor(base, [grant, { token: grant.token, endpoint: `${named}/v1` }]);
}

/** The environment's key for this API base, or undefined when none was given for exactly it. */
export function servingKeyFor(base: string, env: NodeJS.ProcessEnv): string | undefined {
  return grantedKey(base, servingGrant(env));
}
