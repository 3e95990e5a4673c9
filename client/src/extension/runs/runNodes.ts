// The Runs view's entries, from a runs folder: one per saved run (newest first) with its label, key
// metric, date and details, then one per file that is not a readable run, naming the file and why.
// No `vscode` import: the tree provider turns these into TreeItems.
import * as path from 'path';
import { listRuns, runDescription, runDetails, runLabel } from '../../jobs';
import type { RunResult } from '../../jobs';

export type RunNode =
  | { type: 'run'; file: string; run: RunResult; label: string; description: string; tooltip: string }
  | { type: 'broken'; file: string; label: string; description: string; tooltip: string };

export function runNodes(folder: string): RunNode[] {
  let listing: ReturnType<typeof listRuns>;
  try {
    listing = listRuns(folder);
  } catch (error) {
    // the folder itself cannot be read (a file of that name, no permission): one entry that says so
    const reason = error instanceof Error ? error.message : String(error);
    return [{ type: 'broken', file: folder, label: path.basename(folder), description: 'cannot read the runs folder', tooltip: reason }];
  }
  const runs: RunNode[] = listing.runs.map((e) => ({
    type: 'run',
    file: e.file,
    run: e.run,
    label: runLabel(e.run),
    description: runDescription(e.run),
    tooltip: runDetails(e.run, e.file).join('\n'),
  }));
  const broken: RunNode[] = listing.broken
    .sort((a, b) => (a.file < b.file ? -1 : 1))
    .map((b) => ({ type: 'broken', file: b.file, label: path.basename(b.file), description: 'not a readable run', tooltip: b.error }));
  return [...runs, ...broken];
}
