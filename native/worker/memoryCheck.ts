// Before a job starts, its predicted peak memory is checked against what the machine has: a job that cannot
// fit fails at once with the figures, instead of being killed by the kernel's OOM killer hours in. What is
// compared is what the job allocates; the model files it maps are page cache the system can drop, so they
// are named but not counted against the machine. Quantize and generate jobs are checked (the CPU engine's
// estimates, native/model/estimateCpu*.ts); QUANTSTUDIO_MEMORY_CHECK=off skips the check.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { calibrationDefaults, calibrationTexts, planFromConfig } from '../lib';
import type { CalibrationDataset } from '../lib';
import type { QuantAlgorithm } from '../lib';
import { estimateCpuMemory, estimateCpuQuantize, formatModelError, humanBytes, quantSettingsOf, resolveModel } from '../model';
import type { JsonObject as ModelJson, MemoryEstimate, Result } from '../model';
import { JobFailure } from './jobFailure';
import { engineThreads } from './protocol';
import type { Job } from './protocol';

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

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Bytes of the calibration text the job will tokenize; 0 where it cannot be read (the job reports that). */
function textBytes(dataset: CalibrationDataset | undefined): number {
  try {
    return calibrationTexts(dataset ?? calibrationDefaults.dataset).texts.reduce((sum, t) => sum + Buffer.byteLength(t, 'utf8'), 0);
  } catch {
    return 0;
  }
}

/** The job's estimate, or undefined for a kind not checked or a job whose own run will report its problem. */
export async function predictJobMemory(
  job: Job,
  modelFolder: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MemoryEstimate | undefined> {
  if (job.kind !== 'quantize' && job.kind !== 'generate') return undefined;
  // The prediction is the engine's pipeline; on the python backend the libraries' own allocations decide the peak.
  if (job.kind === 'quantize' && job.options.backend === 'python') return undefined;
  const resolved = await resolveModel(modelFolder, { env: {} });
  if (!resolved.ok) return undefined;
  const threads = engineThreads(os.cpus().length, env);
  const tokenizerBytes = fileSize(path.join(modelFolder, 'tokenizer.json'));
  const o = job.options;
  let estimate: Result<MemoryEstimate>;
  if (job.kind === 'quantize') {
    if (job.config === undefined) return undefined;
    const settings = quantSettingsOf(job.config as ModelJson, 'quantization config');
    if (!settings.ok) return undefined;
    let plan;
    try {
      plan = planFromConfig(job.config, o.algorithm as QuantAlgorithm | undefined);
    } catch {
      return undefined; // the job fails with the config's own message
    }
    const calibration = (o.calibration ?? {}) as ModelJson;
    const samples = typeof calibration.nsamples === 'number' ? calibration.nsamples : calibrationDefaults.nsamples;
    const seqLen = typeof calibration.seqlen === 'number' ? calibration.seqlen : calibrationDefaults.seqlen;
    const dataset = (calibration.dataset as CalibrationDataset | undefined) ?? plan.dataset;
    const calibrated = plan.method === 'gptq' || plan.method === 'awq';
    const calibrationTextBytes = calibrated && calibration.tokens === undefined ? textBytes(dataset) : 0;
    const options = {
      algorithm: plan.method,
      samples,
      seqLen,
      trueSequential: plan.trueSequential ?? true,
      threads,
      tokenizerBytes,
      calibrationTextBytes,
    };
    estimate = estimateCpuQuantize(resolved.model, settings.value, options);
  } else {
    // The prompt's tokens are not known before tokenizing: its UTF-8 bytes (plus specials) bound them.
    const promptTokens = Buffer.byteLength(String(o.prompt ?? ''), 'utf8') + 2;
    const newTokens = typeof o.maxTokens === 'number' ? o.maxTokens : 64;
    estimate = estimateCpuMemory(resolved.model, undefined, { batch: 1, promptTokens, newTokens, threads, tokenizerBytes });
  }
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
  const estimate = await predictJobMemory(job, modelFolder, env);
  if (!estimate) return undefined;
  const mapped = estimate.mappedBytes ?? 0;
  const needed = estimate.peakBytes - mapped;
  const available = availableMemory(env);
  if (needed > available.bytes) {
    throw new JobFailure(
      'NOT_ENOUGH_MEMORY',
      `this ${job.kind} job needs about ${humanBytes(needed)} of memory at its peak (besides ${humanBytes(mapped)} of model files it maps, ` +
        `which the system can page), and ${humanBytes(available.bytes)} is available (${available.source}); free memory or use a smaller ` +
        `${job.kind === 'quantize' ? 'calibration set (calibration.nsamples, calibration.seqlen)' : 'model or prompt'}. ` +
        `To run it anyway, set ${MEMORY_CHECK_ENV}=off.`,
    );
  }
  return { needed, available };
}
