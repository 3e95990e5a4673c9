// How many threads the CPU engine runs with, for the worker and for estimates made outside it.

/** The variable the runner sets for the worker's thread count (quantstudio.engine.threads, --threads). */
export const THREADS_ENV = 'QUANTSTUDIO_THREADS';

/**
 * The threads the engine's pool runs with: QUANTSTUDIO_THREADS when it is a positive number, else one per
 * hardware thread — the rule of DefaultThreadPool() in native/src/core/thread_pool.cc (the addon does not
 * report its pool size, so the rule is mirrored here).
 */
export function engineThreads(hardwareThreads: number, env: NodeJS.ProcessEnv = process.env): number {
  const requested = Number.parseInt(env[THREADS_ENV] ?? '', 10);
  return requested > 0 ? requested : Math.max(1, hardwareThreads);
}
