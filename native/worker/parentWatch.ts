// A job worker must not outlive the process that started it: after a kill -9 of the CLI or a crashed editor
// the engine would run on, and its finished output would be moved into place minutes after the user saw the
// job fail. Two watches: the kernel's (Linux, through the addon: PR_SET_PDEATHSIG), which acts even while the
// event loop is blocked by a synchronous call, and the IPC channel's 'disconnect' for other platforms. The
// worker then ends with SIGKILL — process.exit would wait for the engine's threads to finish their work
// (libuv joins its thread pool on exit), final rename included.
import type { Addon } from '../lib';

/** The parent as first seen: a parent that dies later re-parents this process, so getppid() changes. */
const parentAtStart = process.ppid;

/** Ends this process now, without waiting for work on other threads. */
export function dieNow(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is not delivered synchronously on every platform; nothing may run meanwhile.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/** Ties this process's life to its parent's (call once, at start). `load` gives the addon; when it cannot be
 *  loaded the IPC watch alone remains and the job reports the load error itself. */
export function dieWithParent(load: () => Addon): void {
  process.on('disconnect', () => dieNow());
  let addon: Addon;
  try {
    addon = load();
  } catch {
    return;
  }
  addon.dieWithParent(parentAtStart);
}
