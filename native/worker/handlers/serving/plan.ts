// A serving job's options, checked and completed with the defaults of schemas/job.schema.json's
// benchmark.endpoint section (a test holds the two equal).
import { apiBase } from '../../../model';
import { JobFailure } from '../../jobFailure';
import type { Job } from '../../protocol';

export interface ServingPlan {
  /** The API base the requests go to, e.g. http://127.0.0.1:8000/v1. */
  base: string;
  model: string;
  concurrency: number[];
  /** Requests per concurrency level. */
  requests: number;
  promptWords: number;
  maxTokens: number;
  ignoreEos: boolean;
}

export const SERVING_DEFAULTS = {
  concurrency: [1, 2, 4, 8, 16],
  requests: 32,
  /** About 512 tokens of WikiText-2 with a Llama tokenizer, the seeds' prompt length. */
  promptWords: 384,
  maxTokens: 128,
  ignoreEos: false,
} as const;

function checkedApiBase(url: string): string {
  const base = apiBase(url);
  if (base === undefined) {
    throw new JobFailure(
      'INVALID_JOB',
      `options.endpoint must be an http(s) URL without credentials, query or fragment, e.g. http://127.0.0.1:8000/v1; got ${JSON.stringify(url)}`,
      'options.endpoint',
    );
  }
  return base;
}

export function servingPlan(job: Job): ServingPlan {
  const o = job.options;
  return {
    base: checkedApiBase(o.endpoint as string),
    model: job.model,
    concurrency: (o.concurrency as number[] | undefined) ?? [...SERVING_DEFAULTS.concurrency],
    requests: (o.requests as number | undefined) ?? SERVING_DEFAULTS.requests,
    promptWords: (o.promptWords as number | undefined) ?? SERVING_DEFAULTS.promptWords,
    maxTokens: (o.maxTokens as number | undefined) ?? SERVING_DEFAULTS.maxTokens,
    ignoreEos: (o.ignoreEos as boolean | undefined) ?? SERVING_DEFAULTS.ignoreEos,
  };
}
