// Opens the job's model (with its LoRA adapter, when the job names one) and tokenizer, reporting the 'load' phase
// and how long it took.
import { adapterRecord, KvCacheType, LmHeadType, RuntimeModel, TextTokenizer } from '../../lib';
import type { AdapterRecord } from '../../model';
import { JobContext, seconds } from '../context';

export function openJobModel(ctx: JobContext): {
  model: RuntimeModel;
  tokenizer: TextTokenizer;
  loadSeconds: number;
  adapter: { adapter?: AdapterRecord };
} {
  ctx.progress('load', 0, 1, { message: `opening ${ctx.modelFolder}` });
  const started = process.hrtime.bigint();
  // the run options, checked by validateJob
  const { kvCache, lmHead, adapter } = ctx.job.options as { kvCache?: KvCacheType; lmHead?: LmHeadType; adapter?: string };
  const model = RuntimeModel.open(ctx.modelFolder, { kvCache, lmHead, adapter });
  const tokenizer = TextTokenizer.load(ctx.modelFolder);
  const loadSeconds = seconds(started);
  ctx.progress('load', 1, 1);
  return { model, tokenizer, loadSeconds, adapter: adapterOf(model) };
}

/** The run result's record of the model's adapter ({} without one). */
export function adapterOf(model: RuntimeModel): { adapter?: AdapterRecord } {
  return model.adapter ? { adapter: adapterRecord(model.adapter) } : {};
}
