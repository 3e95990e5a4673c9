// resolveModel(ref, options): a model reference (local folder or hub id) → config.json + tensor metadata.
// Order: local folder → in-memory answer → Hugging Face cache → the Hub; an unreachable Hub falls back to
// the last cached answer, returned with the 'offline' error as a non-blocking warning.
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { AnswerCache } from './answerCache';
import type { ModelError } from './errors';
import { ModelErrorException } from './errors';
import { defaultHubCacheDir, findCachedSnapshot } from './hfCache';
import { readHubModel } from './hub';
import { DEFAULT_ENDPOINT, environmentGrant, tokenFor } from './tokenGrant';
import type { TokenGrant } from './tokenGrant';
import { readLocalModel } from './localFolder';
import type { ResolvedModel } from './types';

export interface ResolveOptions {
  /** Branch, tag or commit hash for hub ids. Default 'main'. */
  revision?: string;
  /** Hub endpoint; else HF_ENDPOINT; else https://huggingface.co. */
  endpoint?: string;
  /** The editor's Hub token and the endpoint it is given for; else HF_TOKEN for HF_ENDPOINT (or the public
   *  Hub). A token reaches no other endpoint (tokenGrant.ts), and is never logged or cached. */
  token?: TokenGrant;
  /** Hugging Face cache folder; else HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub. */
  hubCacheDir?: string;
  /** Folder for our own cache of resolved Hub answers; none → memory only. */
  cacheDir?: string;
  /** Folder relative references are resolved against. Default: the process's working directory. */
  baseDir?: string;
  /** Per-request Hub timeout. Default 10 s. */
  timeoutMs?: number;
  /** Environment to read HF_* variables from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Shared answer cache (one per language server); default: one per cacheDir. */
  cache?: AnswerCache;
}

export type ModelResolution =
  | { ok: true; model: ResolvedModel; /** Set when the answer is a cached one because the Hub failed. */ stale?: ModelError }
  | { ok: false; error: ModelError };

const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;
const caches = new Map<string, AnswerCache>();

function cacheFor(options: ResolveOptions): AnswerCache {
  if (options.cache) return options.cache;
  const key = options.cacheDir ?? '';
  let cache = caches.get(key);
  if (!cache) caches.set(key, (cache = new AnswerCache(options.cacheDir)));
  return cache;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

function looksLikePath(ref: string): boolean {
  return isAbsolute(ref) || ref.startsWith('.') || ref.startsWith('~') || ref.includes('\\') || !HUB_ID.test(ref);
}

function asError(error: unknown): ModelError {
  if (error instanceof ModelErrorException) return error.error;
  return { code: 'invalid', message: error instanceof Error ? error.message : String(error), where: '', hint: 'report this as a bug' };
}

export async function resolveModel(ref: string, options: ResolveOptions = {}): Promise<ModelResolution> {
  const env = options.env ?? process.env;
  const folder = resolvePath(options.baseDir ?? process.cwd(), ref);
  try {
    if (await isDirectory(folder)) {
      const { config, tensors } = await readLocalModel(folder);
      return { ok: true, model: { ref, source: 'local', revision: undefined, folder, config, tensors } };
    }
    if (looksLikePath(ref)) {
      return {
        ok: false,
        error: {
          code: 'not-found',
          message: 'model folder not found',
          where: folder,
          hint: 'give an existing folder with config.json and safetensors weights, or a hub id like org/name',
        },
      };
    }
  } catch (error) {
    return { ok: false, error: asError(error) };
  }
  return resolveHubId(ref, options, env);
}

async function resolveHubId(repoId: string, options: ResolveOptions, env: NodeJS.ProcessEnv): Promise<ModelResolution> {
  const revision = options.revision ?? 'main';
  const endpoint = (options.endpoint || env['HF_ENDPOINT'] || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const cache = cacheFor(options);
  const key = AnswerCache.key(endpoint, repoId, revision);
  const remembered = cache.memoryGet(key);
  if (remembered) return { ok: true, model: remembered.model };

  const snapshot = await findCachedSnapshot(options.hubCacheDir ?? defaultHubCacheDir(env), repoId, revision);
  if (snapshot) {
    try {
      const { config, tensors } = await readLocalModel(snapshot.folder);
      return { ok: true, model: { ref: repoId, source: 'hf-cache', revision: snapshot.commit, folder: snapshot.folder, config, tensors } };
    } catch {
      // An incomplete snapshot (config.json without all weights): ask the Hub instead.
    }
  }
  try {
    const accessToken = tokenFor(endpoint, [options.token, environmentGrant(env)]);
    const hub = await readHubModel(repoId, revision, { endpoint, accessToken, timeoutMs: options.timeoutMs ?? 10_000 });
    const model: ResolvedModel = {
      ref: repoId,
      source: 'hub',
      revision: hub.commit,
      folder: undefined,
      config: hub.config,
      tensors: hub.tensors,
    };
    await cache.put(key, model).catch(() => undefined); // a read-only cache folder must not fail the answer
    return { ok: true, model };
  } catch (error) {
    const modelError = asError(error);
    if (modelError.code === 'offline') {
      const last = await cache.get(key);
      if (last)
        return {
          ok: true,
          model: last.model,
          stale: { ...modelError, message: `${modelError.message}; using the answer cached at ${last.savedAt}` },
        };
    }
    return { ok: false, error: modelError };
  }
}
