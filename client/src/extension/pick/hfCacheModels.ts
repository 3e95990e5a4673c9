// The models in the Hugging Face cache a job can run offline: each ref (main first) or unreferenced
// snapshot whose folder holds config.json, every safetensors shard and tokenizer.json. The value to run is
// the Hub id (`org/name`, or `org/name@ref` for another branch or tag), so a RunResult names the model as
// the Hub does and the worker finds the snapshot without asking the Hub. No `vscode` import.
import * as fs from 'fs';
import * as path from 'path';
import { missingSnapshotFiles } from '../../../../native/model';
import { readModelFolder } from './modelFolders';

export interface CachedHubModel {
  /** What a job's `model` is set to: `org/name` or `org/name@ref`. */
  ref: string;
  repoId: string;
  folder: string;
  /** As ModelFolder.quantMethod: undefined for a full-precision model. */
  quantMethod: string | undefined;
}

const REPO_FOLDER = /^models--([^-].*?)--(.+)$/;

function list(folder: string): string[] {
  try {
    return fs.readdirSync(folder).sort();
  } catch {
    return [];
  }
}

/** The refs of a cached repo as [ref, commit] pairs, `main` first. */
function refsOf(repoDir: string): Array<[string, string]> {
  const refs: Array<[string, string]> = [];
  const walk = (dir: string, prefix: string): void => {
    for (const name of list(dir)) {
      const file = path.join(dir, name);
      if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) walk(file, `${prefix}${name}/`);
      else refs.push([`${prefix}${name}`, fs.readFileSync(file, 'utf8').trim()]);
    }
  };
  walk(path.join(repoDir, 'refs'), '');
  return refs.sort(([a], [b]) => (a === 'main' ? -1 : b === 'main' ? 1 : a.localeCompare(b)));
}

export function cachedHubModels(cacheDir: string): CachedHubModel[] {
  const models: CachedHubModel[] = [];
  for (const name of list(cacheDir)) {
    const match = REPO_FOLDER.exec(name);
    if (!match) continue;
    const repoId = `${match[1]}/${match[2]}`;
    const repoDir = path.join(cacheDir, name);
    const snapshots = list(path.join(repoDir, 'snapshots'));
    const refs = refsOf(repoDir).filter(([, commit]) => snapshots.includes(commit));
    const referenced = new Set(refs.map(([, commit]) => commit));
    const candidates: Array<[string, string]> = [
      ...refs.map(([ref, commit]): [string, string] => [ref === 'main' ? repoId : `${repoId}@${ref}`, commit]),
      ...snapshots.filter((c) => !referenced.has(c)).map((commit): [string, string] => [`${repoId}@${commit}`, commit]),
    ];
    for (const [ref, commit] of candidates) {
      const folder = path.join(repoDir, 'snapshots', commit);
      if (missingSnapshotFiles(folder).length > 0) continue;
      const model = readModelFolder(folder);
      if (model) models.push({ ref, repoId, folder, quantMethod: model.quantMethod });
    }
  }
  return models;
}
