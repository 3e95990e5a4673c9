// Opens the job's model and tokenizer, reporting the 'load' phase and how long it took.
import { KvCacheType, LmHeadType, RuntimeModel, TextTokenizer } from '../../lib';
import { JobContext, seconds } from '../context';

export function openJobModel(ctx: JobContext): { model: RuntimeModel; tokenizer: TextTokenizer; loadSeconds: number } {
  ctx.progress('load', 0, 1, { message: `opening ${ctx.modelFolder}` });
  const started = process.hrtime.bigint();
  // the run options, checked by validateJob
  const { kvCache, lmHead } = ctx.job.options as { kvCache?: KvCacheType; lmHead?: LmHeadType };
  const model = RuntimeModel.open(ctx.modelFolder, { kvCache, lmHead });
  const tokenizer = TextTokenizer.load(ctx.modelFolder);
  const loadSeconds = seconds(started);
  ctx.progress('load', 1, 1);
  return { model, tokenizer, loadSeconds };
}
