// Whether the user's Hub token goes with this window's Hub requests, and to which endpoint. A cloned repo
// must not be able to collect it: no token from an untrusted workspace, none over plain http to another
// machine, and none to an endpoint other than the public Hub unless the user allowed that endpoint (the
// quantstudio.hub.tokenEndpoints user setting). No `vscode` import, so the rule is tested on its own.
import { canCarryToken, DEFAULT_ENDPOINT, isDefaultEndpoint, normalizeEndpoint } from '../../../native/model';
import type { TokenGrant } from '../../../native/model';

export interface TokenContext {
  /** The stored token, else HF_TOKEN; '' = none. */
  token: string;
  /** Where Hub requests go: HF_ENDPOINT, else the user's quantstudio.hub.endpoint, else the public Hub. */
  endpoint: string;
  trusted: boolean;
  /** Endpoints the user allowed the token for (user settings only). */
  allowed: readonly unknown[];
}

export type TokenDecision =
  | { kind: 'grant'; grant: TokenGrant }
  /** No token goes out: none stored, an untrusted workspace, or an endpoint that cannot carry one. */
  | { kind: 'none' }
  /** A token and a trusted workspace, but an endpoint the user has not allowed yet: ask. */
  | { kind: 'ask'; endpoint: string };

export function hubEndpoint(env: NodeJS.ProcessEnv, userSetting: string): string {
  return (env['HF_ENDPOINT'] || userSetting || DEFAULT_ENDPOINT).trim();
}

export function decideToken(context: TokenContext): TokenDecision {
  const { token, endpoint } = context;
  const normalized = normalizeEndpoint(endpoint);
  if (token === '' || !context.trusted || !normalized || !canCarryToken(normalized)) return { kind: 'none' };
  if (isDefaultEndpoint(normalized) || context.allowed.some((e) => typeof e === 'string' && normalizeEndpoint(e) === normalized)) {
    return { kind: 'grant', grant: { token, endpoint } };
  }
  return { kind: 'ask', endpoint };
}

/** The list with `endpoint` added (once, in its normalized spelling). */
export function withAllowed(allowed: readonly unknown[], endpoint: string): string[] {
  const list = allowed.filter((e): e is string => typeof e === 'string');
  const normalized = normalizeEndpoint(endpoint) ?? endpoint;
  return list.some((e) => normalizeEndpoint(e) === normalized) ? list : [...list, normalized];
}
