// A quantize job's estimate from the job as written and the model folder it runs on: the worker's pre-job check,
// Quantize Model…'s pre-flight and the job file's lens price the same calibration text and threads.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { engineThreads } from './engineThreads';
import { quantSettingsOf } from './quantSettings';
import { estimateQuantizeJob, quantizeJobOptions, WIKITEXT2_VALID_BYTES } from './quantizeJobEstimate';
import type { QuantizeJobEstimate, QuantizeJobFields } from './quantizeJobEstimate';
import { resolveModel } from './resolve';
import type { Result } from './errors';

const fileSize = (file: string): number => {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat?.isFile() ? stat.size : 0;
};

/** Bytes of the calibration text a dataset names: the bundled WikiText-2, a file (relative to baseDir) or the texts; 0 when unreadable. */
export function calibrationTextBytes(dataset: unknown, baseDir: string = process.cwd()): number {
  if (dataset === 'wikitext2') return WIKITEXT2_VALID_BYTES;
  if (Array.isArray(dataset)) return dataset.reduce((a: number, t) => a + (typeof t === 'string' ? Buffer.byteLength(t, 'utf8') : 0), 0);
  return typeof dataset === 'string' ? fileSize(path.resolve(baseDir, dataset)) : 0;
}

/** The estimate, or why there is none (undefined: a config without a method; an error: a model the estimate cannot read). */
export async function predictQuantizeJob(
  modelFolder: string,
  job: QuantizeJobFields,
  env: NodeJS.ProcessEnv = process.env,
  baseDir?: string,
): Promise<Result<QuantizeJobEstimate> | undefined> {
  const settings = quantSettingsOf(job.config, 'quantization config');
  if (!settings.ok) return undefined;
  const machine = {
    threads: engineThreads(os.cpus().length, env),
    tokenizerBytes: fileSize(path.join(modelFolder, 'tokenizer.json')),
    textBytes: (dataset: unknown) => calibrationTextBytes(dataset, baseDir),
  };
  const options = quantizeJobOptions(job, settings.value, machine);
  if (options === undefined) return undefined;
  const resolved = await resolveModel(modelFolder, { env: {} });
  if (!resolved.ok) return undefined;
  return estimateQuantizeJob(resolved.model, settings.value, options);
}
