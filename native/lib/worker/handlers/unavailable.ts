// Job kinds whose engine pipeline has not landed yet answer with a clear error instead of a crash.
import { JobFailure } from '../jobFailure';
import { HandlerOutput, JobContext } from '../context';

export async function runUnavailable(ctx: JobContext): Promise<HandlerOutput> {
  throw new JobFailure('NOT_AVAILABLE', `${ctx.job.kind} jobs are not available in this engine build yet; quantize, perplexity and generate jobs are`, 'kind');
}
