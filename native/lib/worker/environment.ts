// The machine a run ran on, recorded with every RunResult so numbers can be compared fairly.
import * as os from 'os';
import type { Addon } from '../addon';
import type { RunResult } from './protocol';

/**
 * The threads the engine's pool runs with: QUANTSTUDIO_THREADS when it is a positive number, else one per
 * hardware thread — the rule of DefaultThreadPool() in native/src/core/thread_pool.cc (the addon does not
 * report its pool size, so the rule is mirrored here).
 */
export function engineThreads(hardwareThreads: number, env: NodeJS.ProcessEnv = process.env): number {
  const requested = Number.parseInt(env.QUANTSTUDIO_THREADS ?? '', 10);
  return requested > 0 ? requested : Math.max(1, hardwareThreads);
}

export function environment(addon: Addon): RunResult['environment'] {
  const info = addon.engineInfo();
  return {
    engineVersion: info.version,
    threads: engineThreads(info.hardwareThreads),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    avx2: info.avx2,
    simd: info.simd,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** Peak resident memory of this worker process so far. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
