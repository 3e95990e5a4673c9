// Which Hub token goes where. A token is only ever given for one endpoint — by the editor (the user's token,
// for the public Hub or an endpoint the user allowed) or by the environment (HF_TOKEN for HF_ENDPOINT, else
// the public Hub) — and is sent to that endpoint only. Plain http never carries a token, except to a
// loopback address that the grant names exactly. No imports, so the editor can use it without the Hub client.

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface TokenGrant {
  token: string;
  /** The only endpoint the token may be sent to. */
  endpoint: string;
}

/** `scheme://host[:port][/path]` in one spelling (lower-case host, no trailing slash); undefined when not an http(s) URL. */
export function normalizeEndpoint(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) return undefined;
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export function isDefaultEndpoint(endpoint: string): boolean {
  return normalizeEndpoint(endpoint) === DEFAULT_ENDPOINT;
}

export function isLoopback(endpoint: string): boolean {
  const normalized = normalizeEndpoint(endpoint);
  if (!normalized) return false;
  const host = new URL(normalized).hostname;
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Whether a token may travel to this endpoint at all: https, or http to this machine. */
export function canCarryToken(endpoint: string): boolean {
  const normalized = normalizeEndpoint(endpoint);
  return normalized !== undefined && (normalized.startsWith('https://') || isLoopback(normalized));
}

/** HF_TOKEN, for the endpoint the same environment names (HF_ENDPOINT, else the public Hub). */
export function environmentGrant(env: NodeJS.ProcessEnv): TokenGrant | undefined {
  const token = env['HF_TOKEN']?.trim();
  return token ? { token, endpoint: env['HF_ENDPOINT'] || DEFAULT_ENDPOINT } : undefined;
}

/** The first grant's token given for exactly this endpoint; undefined when none is (or the endpoint cannot carry one). */
export function tokenFor(endpoint: string, grants: readonly (TokenGrant | undefined)[]): string | undefined {
  const target = normalizeEndpoint(endpoint);
  if (!target || !canCarryToken(target)) return undefined;
  return grants.find((grant) => grant && grant.token !== '' && normalizeEndpoint(grant.endpoint) === target)?.token;
}
