// The advisor's picks as jobs, the same for the CLI and the editor: which rows can run (they fit, have a config and
// the serving target does not refuse them), the job file of a pick, and the short evaluation jobs of the first few.
import * as fs from 'fs';
import * as path from 'path';
import type { Advice } from '../../../native/model';
import type { Job, RunMetrics } from '../../../native/worker/protocol';
import { jobFileText, qualityRowTemplate } from './methodTemplates';
import { jobFromJobFile } from './quantizeJobFile';

/** Tokens each evaluation reads: enough to compare the picks, not to report a model's perplexity. */
export const EVALUATE_TOKENS = 4096;

export interface Evaluated {
  /** The candidate id; "fp16" for the model as it is. */
  id: string;
  perplexity?: number;
}

/** What fits and has a job to run (fp16 has none), in rank order. */
export function runnablePicks(rows: readonly Advice[]): Advice[] {
  return rows.filter((a) => a.fits && a.row.config && a.kernel?.path !== 'refused');
}

/** The job file of a pick: the model (an existing folder made absolute, else a Hub id), output `.quantstudio/models/<model>-<id>` beside it. */
export function pickJobText(pick: Advice, jobFile: string, model: string): string {
  const template = qualityRowTemplate(pick.row);
  if (!template) throw new Error(`${pick.id} has no job to write (nothing to quantize)`);
  const modelRef = fs.existsSync(model) ? path.resolve(model) : model;
  const output = path.join(path.dirname(path.resolve(jobFile)), '.quantstudio', 'models', `${path.basename(model)}-${template.id}`);
  return jobFileText(template, path.resolve(jobFile), modelRef, output);
}

/** Quantize jobs for the picks with a short perplexity after each (and before the first: the model as it is), their
 *  job files and outputs under `scratch`. */
export function evaluationJobs(picks: readonly Advice[], model: string, scratch: string): Job[] {
  return picks.map((pick, i) => {
    const file = path.join(scratch, `${pick.id}.quant.json`);
    fs.writeFileSync(file, pickJobText(pick, file, model));
    const job = jobFromJobFile(file);
    if (typeof job === 'string') throw new Error(job);
    job.options.evaluate = { before: i === 0, after: true, maxTokens: EVALUATE_TOKENS };
    return job;
  });
}

/** The perplexities of finished evaluation jobs, fp16 (from the first job's "before") first. */
export function evaluatedOf(picks: readonly Advice[], metrics: readonly RunMetrics[]): Evaluated[] {
  const before = metrics[0]?.['perplexityBefore'];
  return [
    ...(before === undefined ? [] : [{ id: 'fp16', perplexity: before }]),
    ...metrics.map((m, i) => {
      const after = m['perplexityAfter'];
      return { id: picks[i]!.id, ...(after === undefined ? {} : { perplexity: after }) };
    }),
  ];
}
