// What a killed process leaves behind is named after its pid (`<blob>.<pid>.incomplete`, `<out>.tmp-<pid>`):
// whether that process still runs tells a leftover from work in progress.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Whether the process runs; a zombie (dead, not yet reaped by whoever adopted it) does not. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Removes the partial blobs of downloads whose process is gone (a killed job); a running download's are kept. */
export function removeDeadIncomplete(blobsDir: string): void {
  const names = fs.existsSync(blobsDir) ? fs.readdirSync(blobsDir) : [];
  for (const name of names) {
    const pid = /\.(\d+)\.incomplete$/.exec(name)?.[1];
    if (pid !== undefined && !isRunning(Number(pid))) fs.rmSync(path.join(blobsDir, name), { force: true });
  }
}
