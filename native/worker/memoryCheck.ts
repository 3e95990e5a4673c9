// Before a job starts, its predicted peak memory is checked against what the machine has: a job that cannot
// fit fails at once with the figures, instead of being killed by the kernel's OOM killer hours in. What is
// compared is what the job allocates; the model files it maps are page cache the system can drop, so they
// are named but not counted against the machine (native/model/memoryFit.ts, which Quantize Model…'s pre-flight
// shares). Quantize and generate jobs are checked (the CPU engine's estimates, native/model/estimateCpu*.ts);
// QUANTSTUDIO_MEMORY_CHECK=off skips the check.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { planFromConfig } from '../lib';
import type { QuantAlgorithm } from '../lib';
import {
  engineThreads,
  estimateCpuMemory,
  formatModelError,
  MEMORY_CHECK_ENV,
  memoryFit,
  predictQuantizeJob as predictFromFields,
  resolveModel,
} from '../model';
import type { AvailableMemory, KvCacheType, LmHeadType, JsonObject as ModelJson, MemoryEstimate, QuantizeJobEstimate } from '../model';
import { JobFailure } from './jobFailure';
import type { Job } from './protocol';

export { availableMemory, MEMORY_AVAILABLE_ENV, MEMORY_CHECK_ENV } from '../model';
export type { AvailableMemory } from '../model';

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** A quantize job's predicted peak and time, or undefined for a job whose own run will report its problem. */
export async function predictQuantizeJob(
  job: Job,
  modelFolder: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<QuantizeJobEstimate | undefined> {
  if (job.kind !== 'quantize' || job.config === undefined) return undefined;
  try {
    planFromConfig(job.config, job.options.algorithm as QuantAlgorithm | undefined);
  } catch {
    return undefined; // the job fails with the config's own message
  }
  const fields = {
    config: job.config as ModelJson,
    algorithm: job.options.algorithm,
    calibration: job.options.calibration,
    mixedPrecision: job.options.mixedPrecision,
    signRound: job.options.signRound,
  };
  const estimate = await predictFromFields(modelFolder, fields, env);
  if (estimate === undefined) return undefined;
  if (!estimate.ok) throw new JobFailure('INVALID_MODEL', formatModelError(estimate.error));
  return estimate.value;
}

/** The job's estimate, or undefined for a kind not checked or a job whose own run will report its problem. */
export async function predictJobMemory(
  job: Job,
  modelFolder: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MemoryEstimate | undefined> {
  // The prediction is the engine's pipeline; on the python backend the libraries' own allocations decide the peak.
  if (job.options.backend === 'python') return undefined;
  if (job.kind === 'quantize') return (await predictQuantizeJob(job, modelFolder, env))?.memory;
  if (job.kind !== 'generate') return undefined;
  const resolved = await resolveModel(modelFolder, { env: {} });
  if (!resolved.ok) return undefined;
  const threads = engineThreads(os.cpus().length, env);
  const tokenizerBytes = fileSize(path.join(modelFolder, 'tokenizer.json'));
  const o = job.options;
  // The prompt's tokens are not known before tokenizing: its UTF-8 bytes (plus specials) bound them.
  const promptTokens = Buffer.byteLength(String(o.prompt ?? ''), 'utf8') + 2;
  const newTokens = typeof o.maxTokens === 'number' ? o.maxTokens : 64;
  const { kvCache, lmHead } = o as { kvCache?: KvCacheType; lmHead?: LmHeadType }; // checked by validateJob
  const options = { batch: 1, promptTokens, newTokens, threads, tokenizerBytes, kvCache, lmHead };
  const estimate = estimateCpuMemory(resolved.model, undefined, options);
  if (!estimate.ok) throw new JobFailure('INVALID_MODEL', formatModelError(estimate.error));
  return estimate.value;
}

/** Throws NOT_ENOUGH_MEMORY when the job's allocations would not fit; returns the figures it compared. */
export async function checkJobMemory(
  job: Job,
  modelFolder: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ needed: number; available: AvailableMemory } | undefined> {
  if (env[MEMORY_CHECK_ENV] === 'off') return undefined;
  if (job.kind !== 'quantize' && job.kind !== 'generate') return undefined;
  const estimate = await predictJobMemory(job, modelFolder, env);
  if (!estimate) return undefined;
  const fit = memoryFit(job.kind, estimate, env);
  if (fit.message !== undefined) throw new JobFailure('NOT_ENOUGH_MEMORY', fit.message);
  return { needed: fit.needed, available: fit.available };
}
