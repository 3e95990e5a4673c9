// The Hugging Face cache layout (huggingface_hub's "cache system"):
//   <cache>/models--<org>--<name>/refs/<branch or tag>   → a commit hash (text file)
//   <cache>/models--<org>--<name>/snapshots/<commit>/…   → the files at that commit (symlinks into blobs/)
// <cache> is HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub.
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['HF_HUB_CACHE']) return env['HF_HUB_CACHE'];
  if (env['HF_HOME']) return join(env['HF_HOME'], 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

/** `org/name` → `models--org--name`. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

const COMMIT_HASH = /^[0-9a-f]{40}$/;

/**
 * The snapshot folder for (repo, revision) when the cache has one with a config.json, else undefined.
 * A revision that is a commit hash names the snapshot directly; a branch or tag goes through refs/.
 */
export async function findCachedSnapshot(
  cacheDir: string,
  repoId: string,
  revision: string,
): Promise<{ folder: string; commit: string } | undefined> {
  const repoDir = join(cacheDir, repoFolderName(repoId));
  let commit = revision;
  if (!COMMIT_HASH.test(revision)) {
    const ref = await readFile(join(repoDir, 'refs', revision), 'utf8').catch(() => undefined);
    if (ref === undefined) return undefined;
    commit = ref.trim();
    if (!COMMIT_HASH.test(commit)) return undefined;
  }
  const folder = join(repoDir, 'snapshots', commit);
  const config = await stat(join(folder, 'config.json')).catch(() => undefined);
  return config?.isFile() ? { folder, commit } : undefined;
}
