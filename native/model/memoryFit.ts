// Whether a job's predicted memory fits what the machine has: the worker's pre-job check
// (native/worker/memoryCheck.ts) and Quantize Model…'s pre-flight compare the same figures. What is compared is
// what the job allocates; the model files it maps are page cache the system can drop, so they are named but not
// counted against the machine.
import * as fs from 'fs';
import * as os from 'os';
import type { MemoryEstimate } from './estimate';
import { humanBytes } from './units';

/** `off` skips the check. */
export const MEMORY_CHECK_ENV = 'QUANTSTUDIO_MEMORY_CHECK';
/** Bytes: caps what counts as available (to leave room for other work, and for tests). */
export const MEMORY_AVAILABLE_ENV = 'QUANTSTUDIO_MEMORY_AVAILABLE';

export interface AvailableMemory {
  bytes: number;
  source: string;
}

/** MemAvailable from /proc/meminfo (Linux), else os.freemem(); QUANTSTUDIO_MEMORY_AVAILABLE caps it. */
export function availableMemory(env: NodeJS.ProcessEnv = process.env): AvailableMemory {
  let found: AvailableMemory = { bytes: os.freemem(), source: 'free memory (os.freemem)' };
  try {
    const kib = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kib !== undefined) found = { bytes: Number(kib) * 1024, source: 'MemAvailable in /proc/meminfo' };
  } catch {
    // not Linux: os.freemem() stands
  }
  const cap = Number(env[MEMORY_AVAILABLE_ENV]);
  if (env[MEMORY_AVAILABLE_ENV] !== undefined && Number.isFinite(cap) && cap >= 0 && cap < found.bytes)
    found = { bytes: cap, source: `${MEMORY_AVAILABLE_ENV}` };
  return found;
}

export interface MemoryFit {
  /** The prediction's allocations (its peak less the model files it maps). */
  needed: number;
  mapped: number;
  available: AvailableMemory;
  fits: boolean;
  /** Why it does not fit, with both figures and the ways out (undefined when it fits). */
  message?: string;
}

/** Whether a job's predicted allocations fit in what the machine has. */
export function memoryFit(kind: 'quantize' | 'generate', estimate: MemoryEstimate, env: NodeJS.ProcessEnv = process.env): MemoryFit {
  const mapped = estimate.mappedBytes ?? 0;
  const needed = estimate.peakBytes - mapped;
  const available = availableMemory(env);
  if (needed <= available.bytes) return { needed, mapped, available, fits: true };
  const message =
    `this ${kind} job needs about ${humanBytes(needed)} of memory at its peak (besides ${humanBytes(mapped)} of model files it maps, ` +
    `which the system can page), and ${humanBytes(available.bytes)} is available (${available.source}); free memory or use a smaller ` +
    `${kind === 'quantize' ? 'calibration set (calibration.nsamples, calibration.seqlen)' : 'model or prompt'}. ` +
    `To run it anyway, set ${MEMORY_CHECK_ENV}=off.`;
  return { needed, mapped, available, fits: false, message };
}
