// The machine a run ran on, recorded with every RunResult so numbers can be compared fairly.
import * as os from 'os';
import type { Addon } from '../lib';
import { engineThreads, type RunResult } from './protocol';

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
