// A job worker must not outlive the process that started it: after a kill -9 of the CLI or a crashed editor
// the engine would run on, and its finished output would be moved into place minutes after the user saw the
// job fail. The IPC channel's 'disconnect' tells: the engine computes on other threads, so the event loop is
// free to see it. The worker then ends with SIGKILL — process.exit would wait for the engine's threads to
// finish their work (libuv joins its thread pool on exit), final rename included.

/** Ends this process now, without waiting for work on other threads. */
export function dieNow(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is not delivered synchronously on every platform; nothing may run meanwhile.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/** Ties this process's life to its parent's (call once, at start). */
export function dieWithParent(): void {
  process.on('disconnect', () => dieNow());
}
