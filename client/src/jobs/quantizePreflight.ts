// Before Quantize Model… starts a job: the quantize job's predicted peak RSS and time (the estimate the worker's
// own pre-job check makes) and whether its memory fits what the machine has now (native/model/memoryFit.ts, as
// the worker decides it). A model that is not a local folder (a Hub id) gets none: the worker checks it once
// downloaded.
import * as fs from 'fs';
import * as path from 'path';
import { humanBytes, MEMORY_CHECK_ENV, memoryFit, predictQuantizeJob, quantizeJobSummary } from '../../../native/model';
import type { JsonObject, MemoryFit, QuantizeJobEstimate } from '../../../native/model';
import type { Job } from '../../../native/worker/protocol';
import { workerEnv } from './runner';

export interface QuantizePreflight {
  estimate: QuantizeJobEstimate;
  fit: MemoryFit;
  /** QUANTSTUDIO_MEMORY_CHECK=off: the figures are shown, nothing is refused. */
  checked: boolean;
  /** "≈ 1.4 GiB peak RSS · ≈ 3.2 min on 2 threads; 20.1 GiB available (MemAvailable in /proc/meminfo)". */
  summary: string;
}

/** jobFile: where a relative calibration dataset path is read from. */
export async function quantizePreflight(
  job: Job,
  threads: number | undefined,
  jobFile?: string,
  base: NodeJS.ProcessEnv = process.env,
): Promise<QuantizePreflight | undefined> {
  if (job.kind !== 'quantize' || job.config === undefined || !fs.existsSync(job.model)) return undefined;
  const env = workerEnv(threads, base);
  const fields = {
    config: job.config as JsonObject,
    algorithm: job.options.algorithm,
    calibration: job.options.calibration,
    mixedPrecision: job.options.mixedPrecision,
    signRound: job.options.signRound,
  };
  const estimate = await predictQuantizeJob(job.model, fields, env, jobFile === undefined ? undefined : path.dirname(jobFile));
  if (estimate === undefined || !estimate.ok) return undefined; // the job reports it with its own message
  const fit = memoryFit('quantize', estimate.value.memory, env);
  const summary = `${quantizeJobSummary(estimate.value)}; ${humanBytes(fit.available.bytes)} available (${fit.available.source})`;
  return { estimate: estimate.value, fit, checked: env[MEMORY_CHECK_ENV] !== 'off', summary };
}
