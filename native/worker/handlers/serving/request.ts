// One streamed completion against an OpenAI-compatible server (POST <base>/completions, stream: true), timed
// from the moment it is sent: when each chunk of text arrived, and the server's own token counts when it
// reports usage. Only the OpenAI API's own fields are sent, so strict servers (transformers serve) take it.
import { sseData } from './sse';

export interface CompletionRequest {
  /** The API base, e.g. http://127.0.0.1:8000/v1. */
  base: string;
  model: string;
  prompt: string;
  maxTokens: number;
  /** vLLM, TGI and llama.cpp's server read it; others refuse unknown fields, so it is sent only when asked for. */
  ignoreEos: boolean;
  /** Sent as `Authorization: Bearer …` when set (the caller decides it may go to `base`). */
  apiKey?: string;
  signal: AbortSignal;
}

export interface RequestTiming {
  /** Milliseconds from sending to each chunk that carried text. */
  chunkMs: number[];
  /** Milliseconds from sending to the end of the stream. */
  endMs: number;
  /** The server's usage.completion_tokens, else the number of text chunks. */
  outputTokens: number;
  promptTokens?: number;
  /** Whether the counts came from the server's usage figures. */
  usage: boolean;
  error?: string;
}

/** What went wrong, in a line: the status and the start of the server's answer, never the request's headers. */
async function httpError(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 300);
  const hint = response.status === 401 || response.status === 403 ? ' (the server wants an API key it was not given)' : '';
  return `HTTP ${response.status} ${response.statusText}${hint}${text ? `: ${text}` : ''}`;
}

function requestBody(request: Omit<CompletionRequest, 'base' | 'apiKey' | 'signal'>): Record<string, unknown> {
  return {
    model: request.model,
    prompt: request.prompt,
    max_tokens: request.maxTokens,
    stream: true,
    stream_options: { include_usage: true },
    ...(request.ignoreEos ? { ignore_eos: true } : {}),
  };
}

interface CompletionChunk {
  choices?: Array<{ text?: string }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: unknown;
}

export async function streamCompletion(request: CompletionRequest): Promise<RequestTiming> {
  const started = performance.now();
  const chunkMs: number[] = [];
  let usage: CompletionChunk['usage'];
  const timing = (error?: string): RequestTiming => {
    const counted = typeof usage?.completion_tokens === 'number';
    return {
      chunkMs,
      endMs: performance.now() - started,
      outputTokens: counted ? usage!.completion_tokens! : chunkMs.length,
      ...(typeof usage?.prompt_tokens === 'number' ? { promptTokens: usage.prompt_tokens } : {}),
      usage: counted,
      ...(error === undefined ? {} : { error }),
    };
  };
  let response: Response;
  try {
    response = await fetch(`${request.base}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(request.apiKey ? { authorization: `Bearer ${request.apiKey}` } : {}) },
      body: JSON.stringify(requestBody(request)),
      // A redirect would carry the key to a place the user did not name: refused.
      redirect: 'error',
      signal: request.signal,
    });
  } catch (error) {
    if (request.signal.aborted) throw error;
    return timing(connectionError(error));
  }
  if (!response.ok || !response.body) return timing(await httpError(response));
  try {
    for await (const data of sseData(response.body)) {
      const at = performance.now() - started;
      let chunk: CompletionChunk;
      try {
        chunk = JSON.parse(data) as CompletionChunk;
      } catch {
        return timing(`the server streamed an event that is not JSON: ${data.slice(0, 120)}`);
      }
      if (chunk.error !== undefined) return timing(`the server reported an error mid-stream: ${JSON.stringify(chunk.error).slice(0, 300)}`);
      if (chunk.usage) usage = chunk.usage;
      if ((chunk.choices ?? []).some((c) => typeof c.text === 'string' && c.text !== '')) chunkMs.push(at);
    }
  } catch (error) {
    if (request.signal.aborted) throw error;
    return timing(`the stream broke off: ${connectionError(error)}`);
  }
  return chunkMs.length === 0 ? timing('the server streamed no text') : timing();
}

/** fetch's "fetch failed" with its cause (ECONNREFUSED, a redirect refused…). */
export function connectionError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? ((cause as { code?: string }).code ?? cause.message) : undefined;
  return detail ? `${error.message} (${detail})` : error.message;
}
