// A quantize job's predicted peak RSS and wall time before it starts, from the job as written (a *.quant.json's
// fields or the worker's Job): one derivation of the estimate options for the worker's pre-job check, the
// Quantize Model… pre-flight and the job file's code lens and hover.
import type { Result } from './errors';
import { ok } from './errors';
import type { MemoryEstimate } from './estimate';
import { estimateCpuQuantize } from './estimateCpuQuantize';
import type { CpuQuantizeOptions } from './estimateCpuQuantize';
import { estimateQuantizeTime } from './estimateQuantizeTime';
import type { QuantizeTime } from './estimateQuantizeTime';
import type { QuantSettings } from './quantSettings';
import { humanBytes } from './units';
import { mixedPrecisionDefaults } from './bitsAllocation';
import { signRoundDefaults } from './signRound';
import type { JsonObject, ResolvedModel } from './types';

/** The calibration a job gets when it names none (schemas/job.schema.json's defaults; the worker reads them too). */
export const calibrationDefaults = { dataset: 'wikitext2', nsamples: 128, seqlen: 256, seed: 0 } as const;
/** Bytes of the bundled WikiText-2 validation text (examples/data/wikitext2-valid.txt), which 'wikitext2' tokenizes. */
export const WIKITEXT2_VALID_BYTES = 1_121_681;

export interface QuantizeJobEstimate {
  memory: MemoryEstimate;
  /** The wall time on this machine, or why there is none (AWQ). */
  time: Result<QuantizeTime>;
  options: CpuQuantizeOptions;
}

/** What the engine runs: --algorithm rtn keeps the config's layout; bitsandbytes by its type; undefined: nothing it quantizes. */
export function quantizeAlgorithm(settings: QuantSettings, algorithm: unknown): CpuQuantizeOptions['algorithm'] | undefined {
  // The engine writes no compressed-tensors checkpoint (it only loads them): no job to estimate.
  if (settings.method === 'none' || settings.method === 'compressed-tensors') return undefined;
  if (algorithm === 'rtn') return 'rtn';
  if (settings.method === 'bnb4') return settings.quantType;
  return settings.method;
}

/** The parts of a job the estimate reads: its quantization config, algorithm and calibration. */
export interface QuantizeJobFields {
  config: JsonObject;
  algorithm?: unknown;
  calibration?: unknown;
  mixedPrecision?: unknown;
  signRound?: unknown;
}

/** Estimate options from a job's fields; textBytes prices the calibration text the job will tokenize. */
export function quantizeJobOptions(
  job: QuantizeJobFields,
  settings: QuantSettings,
  machine: { threads: number; tokenizerBytes: number; textBytes: (dataset: unknown) => number },
): CpuQuantizeOptions | undefined {
  const algorithm = quantizeAlgorithm(settings, job.algorithm);
  if (algorithm === undefined) return undefined;
  const calibration = (typeof job.calibration === 'object' && job.calibration !== null ? job.calibration : {}) as JsonObject;
  const count = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
  const calibrated = algorithm === 'gptq' || algorithm === 'awq';
  // GPTQConfig's own dataset (a list of texts or a name) when the job gives none; tokens given as ids cost no tokenizing.
  const dataset = calibration.dataset ?? job.config.dataset ?? calibrationDefaults.dataset;
  return {
    algorithm,
    samples: count(calibration.nsamples, calibrationDefaults.nsamples),
    seqLen: count(calibration.seqlen, calibrationDefaults.seqlen),
    trueSequential: job.config.true_sequential !== false,
    gptaq: job.config.gptaq !== undefined && job.config.gptaq !== null,
    ...mixedPrecisionOf(job, algorithm, count(calibration.nsamples, calibrationDefaults.nsamples)),
    ...signRoundOf(job, algorithm),
    threads: machine.threads,
    tokenizerBytes: machine.tokenizerBytes,
    calibrationTextBytes: calibrated && calibration.tokens === undefined ? machine.textBytes(dataset) : 0,
  };
}

/** The windows a GPTQ job's mixedPrecision measures on: its samples (the schema's default) of the job's windows. */
function mixedPrecisionOf(job: QuantizeJobFields, algorithm: string, windows: number): { mixedPrecisionSamples?: number } {
  const m = job.mixedPrecision;
  if (algorithm !== 'gptq' || typeof m !== 'object' || m === null) return {};
  const samples = (m as JsonObject).samples;
  return { mixedPrecisionSamples: Math.min(typeof samples === 'number' ? samples : mixedPrecisionDefaults.samples, windows) };
}

/** A GPTQ job's signRound as the estimate prices it: its iterations and batch (the schema's defaults). */
function signRoundOf(job: QuantizeJobFields, algorithm: string): Pick<CpuQuantizeOptions, 'signRound'> {
  const s = job.signRound;
  if (algorithm !== 'gptq' || typeof s !== 'object' || s === null) return {};
  const { iters, batchSize } = s as JsonObject;
  return {
    signRound: {
      iters: typeof iters === 'number' ? iters : signRoundDefaults.iters,
      batchSize: typeof batchSize === 'number' ? batchSize : signRoundDefaults.batchSize,
    },
  };
}

export function estimateQuantizeJob(model: ResolvedModel, settings: QuantSettings, o: CpuQuantizeOptions): Result<QuantizeJobEstimate> {
  const memory = estimateCpuQuantize(model, settings, o);
  if (!memory.ok) return memory;
  return ok({ memory: memory.value, time: estimateQuantizeTime(model, settings, o), options: o });
}

/** "42 s", "3.2 min", "1.5 h". */
export function humanSeconds(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** "≈ 1.4 GiB peak RSS · ≈ 3.2 min on 2 threads" (or why the time is not predicted): the lens, hover and pre-flight line. */
export function quantizeJobSummary(e: QuantizeJobEstimate): string {
  const time = e.time.ok
    ? `≈ ${humanSeconds(e.time.value.seconds)} on ${e.time.value.threads} thread${e.time.value.threads === 1 ? '' : 's'}`
    : `time not predicted (${e.time.error.message})`;
  return `≈ ${humanBytes(e.memory.peakBytes)} peak RSS · ${time}`;
}
