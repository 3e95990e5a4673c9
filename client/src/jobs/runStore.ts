// Saves RunResults as JSON files under a runs folder (`<workspace>/.quantstudio/runs/<timestamp>-<kind>.json`)
// and reads them back. Writes are atomic (temp file + rename), so a reader never sees half a result.
import * as fs from 'fs';
import * as path from 'path';
import { JOB_KINDS, JobKind, RunResult } from '../../../native/worker/protocol';

export const DEFAULT_RUNS_FOLDER = path.join('.quantstudio', 'runs');

export interface RunEntry {
  file: string;
  id: string;
  kind: JobKind;
  startedAt: string;
  model: string;
  /** The whole run, as read. */
  run: RunResult;
}

/** A file in the runs folder that is not a readable RunResult, with the reason. */
export interface BrokenRunEntry {
  file: string;
  error: string;
}

export function runsFolder(workspace: string, relative: string = DEFAULT_RUNS_FOLDER): string {
  return path.resolve(workspace, relative);
}

/** `2026-11-23T11:07:43.120Z` → `2026-11-23T11-07-43-120Z`: sortable and valid on every file system. */
function fileStamp(iso: string): string {
  return iso.replace(/[:.]/g, '-');
}

export function saveRun(folder: string, result: RunResult): string {
  fs.mkdirSync(folder, { recursive: true });
  const base = `${fileStamp(result.startedAt)}-${result.kind}`;
  let file = path.join(folder, `${base}.json`);
  for (let n = 2; fs.existsSync(file); n++) file = path.join(folder, `${base}-${n}.json`);
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, `${JSON.stringify(result, null, 2)}\n`);
  fs.renameSync(temp, file);
  return file;
}

export function readRun(file: string): RunResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not a readable run result (${error instanceof Error ? error.message : String(error)})`);
  }
  const r = parsed as Partial<RunResult> | null;
  if (!r || typeof r !== 'object' || r.schemaVersion !== 1) {
    throw new Error(`${file}: not a run result of schema version 1 (schemaVersion is ${JSON.stringify(r?.schemaVersion)})`);
  }
  if (
    typeof r.id !== 'string' ||
    !JOB_KINDS.includes(r.kind as JobKind) ||
    typeof r.startedAt !== 'string' ||
    typeof r.model?.ref !== 'string'
  ) {
    throw new Error(`${file}: a run result needs id, kind, startedAt and model.ref`);
  }
  return r as RunResult;
}

/** The runs in a folder, newest first, and the files that could not be read. */
export function listRuns(folder: string): { runs: RunEntry[]; broken: BrokenRunEntry[] } {
  const runs: RunEntry[] = [];
  const broken: BrokenRunEntry[] = [];
  const names = fs.existsSync(folder) ? fs.readdirSync(folder).filter((n) => n.endsWith('.json')) : [];
  for (const name of names) {
    const file = path.join(folder, name);
    try {
      const r = readRun(file);
      runs.push({ file, id: r.id, kind: r.kind, startedAt: r.startedAt, model: r.model.ref, run: r });
    } catch (error) {
      broken.push({ file, error: error instanceof Error ? error.message : String(error) });
    }
  }
  runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.file < b.file ? 1 : -1));
  return { runs, broken };
}
