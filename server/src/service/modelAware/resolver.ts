// Model references → resolved models, asynchronously and cached: one resolver (and one AnswerCache) per
// language service. diagnose() only peeks at what is already known; resolving starts in the background and
// whoever waits on `resolve()` (the LSP server) re-publishes when it is done.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import {
  AnswerCache,
  CONFIG_FILE,
  defaultHubCacheDir,
  findCachedSnapshot,
  parseJsonObject,
  readLocalModel,
  resolveModel,
} from '../../../../native/model';
import type { ModelError, ResolvedModel, TokenGrant } from '../../../../native/model';
import type { ModelReference } from './reference';

export type ModelState =
  | { status: 'resolving' }
  | { status: 'ready'; model: ResolvedModel; /** The Hub failed and this is the last cached answer. */ stale?: ModelError }
  | { status: 'failed'; error: ModelError }
  /** A config's own folder that holds no model (no config.json with architectures, or no safetensors). */
  | { status: 'absent' };

export interface HubSettings {
  /** Hub endpoint (setting quantstudio.hub.endpoint); HF_ENDPOINT wins when set, as the setting says. */
  endpoint?: string;
  /** The user's token and the one endpoint it may be sent to (HF_TOKEN goes only to HF_ENDPOINT or the public Hub). */
  token?: TokenGrant;
  /** Folder for cached Hub answers; none → memory only. */
  cacheDir?: string;
  hubCacheDir?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Whether a folder holds a model: config.json naming its architectures, and safetensors weights. */
async function holdsModel(folder: string): Promise<boolean> {
  const files = await readdir(folder).catch(() => [] as string[]);
  if (!files.some((f) => f.endsWith('.safetensors'))) return false;
  try {
    const file = join(folder, CONFIG_FILE);
    const { architectures } = parseJsonObject(await readFile(file, 'utf8'), file);
    return Array.isArray(architectures) && architectures.length > 0;
  } catch {
    return false;
  }
}

/** A Hugging Face repo id (org/name), as opposed to a path. */
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

/** HF_HUB_OFFLINE=1 (the Hugging Face convention): never contact the Hub, answer from the HF cache only. */
function hubOffline(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env['HF_HUB_OFFLINE'] ?? '').toLowerCase());
}

async function fromHfCacheOnly(repoId: string, hubCacheDir: string): Promise<ModelState> {
  const snapshot = await findCachedSnapshot(hubCacheDir, repoId, 'main');
  if (snapshot) {
    const { config, tensors } = await readLocalModel(snapshot.folder);
    return {
      status: 'ready',
      model: { ref: repoId, source: 'hf-cache', revision: snapshot.commit, folder: snapshot.folder, config, tensors },
    };
  }
  return {
    status: 'failed',
    error: {
      code: 'offline',
      message: 'HF_HUB_OFFLINE is set and the model is not in the Hugging Face cache',
      where: repoId,
      hint: `download it once with the Hub reachable, or unset HF_HUB_OFFLINE`,
    },
  };
}

export class ModelResolver {
  private readonly states = new Map<string, { state: ModelState; done: Promise<ModelState> }>();
  private cache: AnswerCache;

  constructor(private hub: HubSettings = {}) {
    this.cache = new AnswerCache(hub.cacheDir);
  }

  /** New Hub settings forget every answer that depended on the old ones. */
  configure(hub: HubSettings): void {
    const same = JSON.stringify({ ...this.hub, env: undefined }) === JSON.stringify({ ...hub, env: undefined }) && this.hub.env === hub.env;
    if (same) return;
    this.hub = hub;
    this.cache = new AnswerCache(hub.cacheDir);
    this.states.clear();
  }

  private static key(reference: ModelReference): string {
    return `${reference.origin === 'own-folder' ? 'own' : 'ref'}\0${reference.baseDir ?? ''}\0${reference.ref}`;
  }

  /** What is known now, without waiting; starts resolving when nothing is. */
  peek(reference: ModelReference): ModelState {
    return this.entry(reference).state;
  }

  /** The settled state (ready, failed or absent). */
  resolve(reference: ModelReference): Promise<ModelState> {
    return this.entry(reference).done;
  }

  /** Forget a reference (its folder changed on disk). */
  forget(reference: ModelReference): void {
    this.states.delete(ModelResolver.key(reference));
  }

  private entry(reference: ModelReference): { state: ModelState; done: Promise<ModelState> } {
    const key = ModelResolver.key(reference);
    const known = this.states.get(key);
    if (known) return known;
    const record: { state: ModelState; done: Promise<ModelState> } = {
      state: { status: 'resolving' },
      done: Promise.resolve({ status: 'resolving' }),
    };
    record.done = this.settle(reference).then((state) => {
      record.state = state;
      return state;
    });
    this.states.set(key, record);
    return record;
  }

  private async settle(reference: ModelReference): Promise<ModelState> {
    try {
      if (reference.origin === 'own-folder' && !(await holdsModel(resolvePath(reference.ref)))) return { status: 'absent' };
      const env = this.hub.env ?? process.env;
      const isFolder =
        (await stat(resolvePath(reference.baseDir ?? process.cwd(), reference.ref)).catch(() => undefined))?.isDirectory() ?? false;
      if (!isFolder && HUB_ID.test(reference.ref) && hubOffline(env))
        return await fromHfCacheOnly(reference.ref, this.hub.hubCacheDir ?? defaultHubCacheDir(env));
      const resolution = await resolveModel(reference.ref, {
        baseDir: reference.baseDir,
        endpoint: env['HF_ENDPOINT'] || this.hub.endpoint,
        token: this.hub.token,
        hubCacheDir: this.hub.hubCacheDir,
        timeoutMs: this.hub.timeoutMs ?? 10_000,
        env,
        cache: this.cache,
      });
      return resolution.ok
        ? { status: 'ready', model: resolution.model, stale: resolution.stale }
        : { status: 'failed', error: resolution.error };
    } catch (error) {
      // resolveModel returns errors as values; anything thrown is a bug, still reported, never a hang.
      return {
        status: 'failed',
        error: {
          code: 'invalid',
          message: error instanceof Error ? error.message : String(error),
          where: reference.ref,
          hint: 'report this as a bug',
        },
      };
    }
  }
}
