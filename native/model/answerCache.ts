// Resolved Hub models cached per (endpoint, model id, revision): in memory for the process and on
// disk in a folder the caller chooses, so an offline editor still has the last answer. The cache
// holds config.json and tensor metadata only — never a token.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ResolvedModel } from './types';

export interface CachedAnswer {
  savedAt: string;
  model: ResolvedModel;
}

export class AnswerCache {
  private readonly memory = new Map<string, CachedAnswer>();

  constructor(private readonly folder: string | undefined) {}

  static key(endpoint: string, repoId: string, revision: string): string {
    return `${endpoint.replace(/\/+$/, '')}|${repoId}|${revision}`;
  }

  private file(key: string): string | undefined {
    // A hash keeps any id or revision spelling a safe file name.
    return this.folder && join(this.folder, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  memoryGet(key: string): CachedAnswer | undefined {
    return this.memory.get(key);
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const hit = this.memory.get(key);
    if (hit) return hit;
    const file = this.file(key);
    if (!file) return undefined;
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const stored = JSON.parse(text) as { key?: string } & CachedAnswer;
      if (stored.key !== key || typeof stored.model?.config !== 'object' || !Array.isArray(stored.model?.tensors)) return undefined;
      const answer = { savedAt: stored.savedAt, model: stored.model };
      this.memory.set(key, answer);
      return answer;
    } catch {
      return undefined; // a damaged cache entry is just a miss
    }
  }

  async put(key: string, model: ResolvedModel): Promise<void> {
    const answer = { savedAt: new Date().toISOString(), model };
    this.memory.set(key, answer);
    const file = this.file(key);
    if (!file || !this.folder) return;
    await mkdir(this.folder, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({ key, ...answer }));
    await rename(temp, file);
  }
}
