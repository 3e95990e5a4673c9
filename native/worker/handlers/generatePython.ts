// A generate job on the python backend: the worker tokenizes the prompt and decodes the streamed ids with the
// model's tokenizer, as for the engine; the generate runner (python/quantstudio_generate.py) runs the model with
// transformers in the user's Python, on CUDA when torch sees a GPU, and reports each token id as it is sampled.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promptIds, readRuntimeConfig, TextStream, TextTokenizer } from '../../lib';
import { HandlerOutput, JobContext } from '../context';
import { peakRssBytes } from '../environment';
import { pythonBackendRecord, runPythonRunner } from '../pythonRunner';

/** What the generate runner reports besides the streamed ids. */
interface GenerateReport {
  loadSeconds: number;
  kernel: string;
  promptTokens: number;
  tokens: number[];
  stopReason: string;
  prefillSeconds: number;
  decodeSeconds: number;
}

export async function generateOnPython(ctx: JobContext, python: string): Promise<HandlerOutput> {
  const o = ctx.job.options;
  const tokenizer = TextTokenizer.load(ctx.modelFolder);
  const config = readRuntimeConfig(ctx.modelFolder);
  const eos = tokenizer.eosTokenId;
  const job = {
    folder: ctx.modelFolder,
    prompt: promptIds(tokenizer, o.prompt as string),
    maxTokens: (o.maxTokens as number | undefined) ?? 64,
    temperature: o.temperature ?? 0,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    seed: o.seed ?? 0,
    // the engine's stop ids: the config's end-of-sequence ids and the tokenizer's
    stopIds: [...new Set([...config.eosTokenIds, ...(eos === undefined ? [] : [eos])])],
    ...(typeof o.kernel === 'string' ? { kernel: o.kernel } : {}),
  };
  const stream = new TextStream(tokenizer, (chunk) => ctx.token(chunk));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'quantstudio-generate-'));
  try {
    const result = await runPythonRunner(python, 'generate', job, {
      scratch,
      signal: ctx.signal,
      log: ctx.log,
      onReport: (r) => {
        if (r.type === 'token') stream.push(r.id);
        else if (r.type === 'progress') ctx.progress(r.phase, r.current, r.total, r.message === undefined ? {} : { message: r.message });
      },
    });
    const r = result.report as GenerateReport;
    const decoded = Math.max(0, r.tokens.length - 1);
    ctx.log('info', `python backend: ${r.kernel}, stopped: ${r.stopReason}`);
    return {
      model: { architecture: config.architecture },
      text: tokenizer.decode(r.tokens),
      backend: pythonBackendRecord(python, result),
      metrics: {
        tokens: r.tokens.length,
        promptTokens: r.promptTokens,
        tokensPerSecond: r.decodeSeconds > 0 ? decoded / r.decodeSeconds : 0,
        prefillTokensPerSecond: r.prefillSeconds > 0 ? r.promptTokens / r.prefillSeconds : undefined,
        loadSeconds: r.loadSeconds,
        peakRssBytes: peakRssBytes(),
        pythonPeakRssBytes: result.peakRssBytes,
        ...(result.cudaMaxAllocatedBytes === undefined ? {} : { cudaMaxAllocatedBytes: result.cudaMaxAllocatedBytes }),
      },
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
