// API keys for serving benchmarks: kept in VS Code's SecretStorage, each stored by the user for one endpoint
// (commands/setServingApiKey.ts), never in settings or job files, never logged. A job's endpoint comes from a job
// file a cloned repository may have written, so a key goes with a job only when the user stored it for exactly
// that endpoint (native/model/servingKey.ts decides, with the Hub token's transport rule: https or this machine).
import * as vscode from 'vscode';
import { grantedKey, normalizeEndpoint } from '../../../native/model';
import type { TokenGrant } from '../../../native/model';

const SECRET_KEY = 'quantstudio.serving.apiKeys';

/** The stored keys by endpoint (normalized); {} when none or unreadable. */
export async function storedServingKeys(context: vscode.ExtensionContext): Promise<Record<string, string>> {
  try {
    const parsed = JSON.parse((await context.secrets.get(SECRET_KEY)) ?? '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Stores (or, with '', removes) the key for `endpoint`; false when it is not an http(s) URL. */
export async function storeServingKey(context: vscode.ExtensionContext, endpoint: string, key: string): Promise<boolean> {
  const normalized = normalizeEndpoint(endpoint);
  if (normalized === undefined) return false;
  const keys = await storedServingKeys(context);
  if (key === '') delete keys[normalized];
  else keys[normalized] = key;
  await context.secrets.store(SECRET_KEY, JSON.stringify(keys));
  return true;
}

/** The grant for a job whose API base is `base`: the stored key given for exactly that endpoint, if any. */
export async function servingGrantFor(context: vscode.ExtensionContext, base: string): Promise<TokenGrant | undefined> {
  const grants = Object.entries(await storedServingKeys(context)).map(([endpoint, token]) => ({ token, endpoint }));
  return grants.find((grant) => grantedKey(base, grant) !== undefined);
}
