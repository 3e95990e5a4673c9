// The serving benchmark: a running OpenAI-compatible server (vLLM, TGI, llama.cpp's server, transformers serve)
// measured at a sweep of concurrency levels — time to first token, time per output token, inter-token
// latency, request latency, requests/s and output tokens/s — from streamed completions of WikiText-2 prompts.
// One untimed warm-up request first (a server may load or compile on its first request); a cancel aborts
// every request in flight. The API key goes only to the endpoint the user gave it for (native/model/servingKey.ts).
import { SERVING_ENDPOINT_ENV, SERVING_KEY_ENV, servingKeyFor } from '../../model';
import type { EndpointRecord, ServingLevel } from '../protocol';
import type { HandlerOutput, JobContext } from '../context';
import { JobFailure } from '../jobFailure';
import { runLevel } from './serving/load';
import { servingPlan, type ServingPlan } from './serving/plan';
import { servingPrompts } from './serving/prompts';
import { connectionError, streamCompletion } from './serving/request';
import { levelOf } from './serving/stats';

const PROBE_TIMEOUT_MS = 10_000;
const NO_KEY_HINT =
  ', and none was given for this endpoint (store one with "QuantStudio: Set Serving API Key…" for exactly this URL, ' +
  `or set ${SERVING_KEY_ENV} and ${SERVING_ENDPOINT_ENV})`;

/** GET <base>/models: whether anything answers, what it calls itself, and whether it serves `model`. */
async function probe(plan: ServingPlan, apiKey: string | undefined, ctx: JobContext): Promise<string | undefined> {
  let response: Response;
  try {
    response = await fetch(`${plan.base}/models`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      redirect: 'error',
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]),
    });
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    throw new JobFailure(
      'NOT_AVAILABLE',
      `no OpenAI-compatible server answered at ${plan.base}/models: ${connectionError(error)}. ` +
        'Start the server first (e.g. vllm serve <model>, llama-server -m <file.gguf>, transformers serve <model>) ' +
        'and name its API base in options.endpoint',
      'options.endpoint',
    );
  }
  const header = response.headers.get('server') ?? undefined;
  if (response.status === 401 || response.status === 403) {
    throw new JobFailure(
      'NEEDS_API_KEY',
      `${plan.base} answered ${response.status}: it wants an API key${apiKey ? ' and refused the one given' : NO_KEY_HINT}`,
      'options.endpoint',
    );
  }
  if (!response.ok) {
    ctx.log('warn', `${plan.base}/models answered HTTP ${response.status}; measuring anyway`);
    return header;
  }
  const listed = ((await response.json().catch(() => ({}))) as { data?: Array<{ id?: unknown; owned_by?: unknown }> }).data ?? [];
  const served = listed.find((m) => m.id === plan.model);
  if (listed.length > 0 && !served) {
    const names = listed.map((m) => String(m.id)).slice(0, 8);
    ctx.log('warn', `${plan.base} lists ${names.join(', ')}, not ${plan.model}: the requests name ${plan.model} and may be refused`);
  }
  const owner = typeof served?.owned_by === 'string' ? served.owned_by : undefined;
  return [header, owner].filter((s) => s !== undefined && s !== '').join(' · ') || undefined;
}

export async function runServing(ctx: JobContext): Promise<HandlerOutput> {
  const plan = servingPlan(ctx.job);
  const apiKey = servingKeyFor(plan.base, process.env);
  if (!apiKey && process.env[SERVING_KEY_ENV]) ctx.log('info', `an API key is set, but not for ${plan.base}: none is sent`);
  const prompts = servingPrompts(plan.requests * plan.concurrency.length + 1, plan.promptWords);
  const server = await probe(plan, apiKey, ctx);
  let usage = true;
  const send = async (prompt: string) => {
    const timing = await streamCompletion({ ...plan, prompt, apiKey, signal: ctx.signal });
    if (timing.error === undefined && !timing.usage) usage = false;
    return timing;
  };

  ctx.progress('warm-up', 0, 1, { message: `one request to ${plan.base}`, overall: 0 });
  const warm = await send(prompts[0]!);
  if (warm.error !== undefined)
    throw new JobFailure('NOT_AVAILABLE', `the warm-up request to ${plan.base}/completions failed: ${warm.error}`, 'options.endpoint');

  const levels: ServingLevel[] = [];
  const total = plan.requests * plan.concurrency.length;
  for (const [index, concurrency] of plan.concurrency.entries()) {
    const own = prompts.slice(1 + index * plan.requests, 1 + (index + 1) * plan.requests);
    const phase = `concurrency ${concurrency}`;
    const { timings, seconds } = await runLevel(concurrency, own, send, (done) =>
      ctx.progress(phase, done, plan.requests, { overall: (index * plan.requests + done) / total }),
    );
    const level = levelOf(concurrency, timings, seconds);
    if (level.completed === 0)
      throw new JobFailure(
        'NOT_AVAILABLE',
        `every request at concurrency ${concurrency} failed; the first: ${level.firstError}`,
        'options.endpoint',
      );
    if (level.failed > 0) ctx.log('warn', `${phase}: ${level.failed} of ${plan.requests} requests failed; the first: ${level.firstError}`);
    levels.push(level);
  }
  const endpoint: EndpointRecord = {
    url: plan.base,
    model: plan.model,
    ...(server === undefined ? {} : { server }),
    tokenCount: usage ? 'usage' : 'chunks',
    authenticated: apiKey !== undefined,
  };
  const best = Math.max(...levels.map((l) => l.outputTokensPerSecond));
  return { metrics: { tokensPerSecond: best }, endpoint, serving: levels };
}
