// Perplexity of a text (default: the WikiText-2 test text) with the project's window protocol.
import * as fs from 'fs';
import { wikitext2TestPath } from '../../lib';
import { etaSeconds, HandlerOutput, JobContext, seconds } from '../context';
import { peakRssBytes } from '../environment';
import { openJobModel } from './openModel';
import { withStagedResult } from './output';

export async function runPerplexity(ctx: JobContext): Promise<HandlerOutput> {
  const { options } = ctx.job;
  const seq = (options.seq as number | undefined) ?? 256;
  const maxTokens = options.maxTokens as number | undefined;
  const textPath = (options.text as string | undefined) ?? wikitext2TestPath();
  return withStagedResult(ctx, async () => {
    const { model, tokenizer, loadSeconds, adapter } = openJobModel(ctx);

    ctx.progress('tokenize', 0, 1, { message: textPath });
    const all = tokenizer.encode(fs.readFileSync(textPath, 'utf8'), { addSpecialTokens: false });
    const ids = maxTokens === undefined ? all : all.slice(0, maxTokens);
    ctx.progress('tokenize', 1, 1, { message: `${ids.length} tokens` });

    const started = process.hrtime.bigint();
    const r = await model.perplexity(ids, { seq, signal: ctx.signal }, (done, total) => {
      ctx.progress('perplexity', done, total, { etaSeconds: etaSeconds(started, done, total) });
    });
    const evalSeconds = seconds(started);
    return {
      model: { architecture: model.config.architecture },
      ...adapter,
      metrics: {
        perplexity: r.perplexity,
        tokens: ids.length,
        predictedTokens: r.tokens,
        windows: r.windows,
        seq,
        tokensPerSecond: r.tokens / evalSeconds,
        loadSeconds,
        peakRssBytes: peakRssBytes(),
      },
    };
  });
}
