// Text generation with tokens streamed to the runner as they are decoded: on the engine, or on the python backend
// (generatePython.ts).
import { generateText } from '../../lib';
import { HandlerOutput, JobContext } from '../context';
import { peakRssBytes } from '../environment';
import { checkBackendOptions, jobBackend } from '../jobBackend';
import { generateOnPython } from './generatePython';
import { openJobModel } from './openModel';
import { withStagedResult } from './output';

export async function runGenerate(ctx: JobContext): Promise<HandlerOutput> {
  const o = ctx.job.options;
  const backend = jobBackend(o);
  checkBackendOptions(o, backend);
  if (backend.name === 'python') return withStagedResult(ctx, () => generateOnPython(ctx, backend.python));
  return withStagedResult(ctx, async () => {
    const { model, tokenizer, loadSeconds, adapter } = openJobModel(ctx);

    const maxTokens = (o.maxTokens as number | undefined) ?? 64;
    // Live feedback is the token stream; generateText calls back per decoded text chunk, not per token,
    // so progress is reported at the start and the end only.
    ctx.progress('generate', 0, maxTokens);
    const r = await generateText(
      model,
      tokenizer,
      {
        prompt: o.prompt as string,
        maxTokens,
        temperature: o.temperature as number | undefined,
        topK: o.topK as number | undefined,
        topP: o.topP as number | undefined,
        seed: o.seed as number | undefined,
        signal: ctx.signal,
      },
      (chunk) => ctx.token(chunk),
    );
    if (r.stopReason === 'cancelled') throw new Error('generation cancelled');
    ctx.progress('generate', r.tokens.length, maxTokens, { message: `stopped: ${r.stopReason}` });
    return {
      model: { architecture: model.config.architecture },
      text: r.text,
      ...adapter,
      metrics: {
        tokens: r.tokens.length,
        promptTokens: r.promptTokens,
        tokensPerSecond: r.tokensPerSecond,
        prefillTokensPerSecond: r.prefillSeconds > 0 ? r.promptTokens / r.prefillSeconds : undefined,
        loadSeconds,
        peakRssBytes: peakRssBytes(),
      },
    };
  });
}
