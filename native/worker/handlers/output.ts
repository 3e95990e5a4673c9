// A job given `options.out` saves its result into that folder, staged and renamed on success.
import * as fs from 'fs';
import * as path from 'path';
import { HandlerOutput, JobContext } from '../context';
import { OutputLock } from '../outputLock';
import { StagedOutput } from '../stagedOutput';

export async function withStagedResult(ctx: JobContext, run: () => Promise<HandlerOutput>): Promise<HandlerOutput> {
  const out = ctx.job.options.out as string | undefined;
  if (out === undefined) return run();
  return OutputLock.around(out, () => writeStaged(out, run));
}

async function writeStaged(out: string, run: () => Promise<HandlerOutput>): Promise<HandlerOutput> {
  const staged = new StagedOutput(out);
  try {
    const result = await run();
    fs.writeFileSync(path.join(staged.folder, 'metrics.json'), `${JSON.stringify(result.metrics, null, 2)}\n`);
    if (result.text !== undefined) fs.writeFileSync(path.join(staged.folder, 'text.txt'), result.text);
    return { ...result, output: staged.commit() };
  } catch (error) {
    staged.discard();
    throw error;
  }
}
