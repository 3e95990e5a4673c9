// A job file's "model": a folder relative to the job file, or a Hub id (`org/name[@revision]`) when no
// folder by that name is there — the rule the worker applies to a job's model (a folder wins).
import { existsSync } from 'fs';
import { resolve } from 'path';
import { parseHubRef } from '../../../native/model';

export function jobFileModel(base: string, model: string): string {
  const folder = resolve(base, model);
  return parseHubRef(model) && !existsSync(folder) ? model : folder;
}
