// A worker killed while writing leaves its staging folder `<out>.tmp-<pid>` behind: the runner removes it
// when the worker exits, and a runner that was killed too leaves it for the next job into the same place,
// which removes every staging folder whose process is gone. A staging folder is never moved into place by
// anyone but the process that wrote it. The output's lock `<out>.lock` goes with its worker the same way.
import * as fs from 'fs';
import * as path from 'path';
import { isRunning } from '../../../native/model';
import { OUTPUT_LOCK_SUFFIX, STAGING_MARKER } from '../../../native/worker/protocol';

/** `<out>.tmp-<pid>` folders beside `out`, with their pids. */
function stagingFolders(out: string): { folder: string; pid: number }[] {
  const final = path.resolve(out);
  const parent = path.dirname(final);
  const prefix = `${path.basename(final)}${STAGING_MARKER}`;
  const names = fs.existsSync(parent) ? fs.readdirSync(parent) : [];
  return names
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({ folder: path.join(parent, name), pid: Number(name.slice(prefix.length)) }));
}

/** Removes `<out>.lock` when `holds` says yes to its pid. */
function removeLock(out: string, holds: (pid: number) => boolean): void {
  const file = `${path.resolve(out)}${OUTPUT_LOCK_SUFFIX}`;
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && holds(pid)) fs.rmSync(file, { force: true });
}

export function removeStagingLeftovers(out: string, pid: number | undefined): void {
  // Only this worker's folder when its pid is known, so a parallel job into the same place is left alone.
  for (const staged of stagingFolders(out)) {
    if (pid === undefined || staged.pid === pid) fs.rmSync(staged.folder, { recursive: true, force: true });
  }
  if (pid !== undefined) removeLock(out, (holder) => holder === pid);
}

/** Removes the staging folders of `out` whose process no longer runs, and a lock such a process left. */
export function removeDeadStaging(out: string): void {
  for (const staged of stagingFolders(out)) {
    if (!isRunning(staged.pid)) fs.rmSync(staged.folder, { recursive: true, force: true });
  }
  removeLock(out, (holder) => !isRunning(holder));
}
