// A job file's own run, predicted before it starts: the quantize job's peak RSS and wall time on this machine
// (native/model/quantizeJobEstimate.ts, the figures the worker's pre-job check and Quantize Model… use), from the
// job's quantization_config, algorithm and calibration as written.
import { dirname } from 'node:path';
import { calibrationTextBytes, estimateQuantizeJob, quantizeJobOptions } from '../../../../native/model';
import type { JsonObject, QuantizeJobEstimate, QuantSettings, ResolvedModel } from '../../../../native/model';

export function quantizeJobFor(
  job: JsonObject,
  jobFile: string | undefined,
  model: ResolvedModel,
  settings: QuantSettings,
  machine: { threads: number; tokenizerBytes: number },
): QuantizeJobEstimate | undefined {
  const config = job.quantization_config;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return undefined;
  const { algorithm, calibration, mixedPrecision, signRound } = job;
  const fields = { config, algorithm, calibration, mixedPrecision, signRound };
  const options = quantizeJobOptions(fields, settings, {
    ...machine,
    textBytes: (d) => calibrationTextBytes(d, jobFile === undefined ? undefined : dirname(jobFile)),
  });
  if (options === undefined) return undefined;
  const estimate = estimateQuantizeJob(model, settings, options);
  return estimate.ok ? estimate.value : undefined;
}
