// A loopback server speaking the OpenAI completions API as vLLM streams it: GET /v1/models, and POST
// /v1/completions streamed one token per chunk with usage at the end (prompt_tokens = the prompt's words). It
// records every request's body, Authorization header and the most requests it served at once, for the serving
// benchmark's tests (unit and e2e). `handle` may answer a request itself instead.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  bodies: Array<Record<string, unknown>>;
  authorization: Array<string | undefined>;
  maxInFlight: number;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams max_tokens chunks per request, the first after `firstMs`, then one every `gapMs`. */
export async function startServingServer(
  options: { firstMs?: number; gapMs?: number; handle?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean } = {},
): Promise<{ base: string; seen: Seen; close: () => Promise<void> }> {
  const seen: Seen = { bodies: [], authorization: [], maxInFlight: 0 };
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    seen.authorization.push(req.headers.authorization);
    if (options.handle?.(req, res)) return;
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.setHeader('server', 'fake-vllm');
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'tiny', object: 'model', owned_by: 'vllm' }] }));
      return;
    }
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', async () => {
      const body = JSON.parse(raw) as { prompt: string; max_tokens: number };
      seen.bodies.push(body as unknown as Record<string, unknown>);
      seen.maxInFlight = Math.max(seen.maxInFlight, ++inFlight);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await sleep(options.firstMs ?? 15);
      for (let i = 0; i < body.max_tokens; i++) {
        if (i > 0) await sleep(options.gapMs ?? 3);
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: ` t${i}`, finish_reason: null }] })}\n\n`);
      }
      const usage = { prompt_tokens: body.prompt.split(' ').length, completion_tokens: body.max_tokens };
      res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\ndata: [DONE]\n\n`);
      inFlight--;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}/v1`,
    seen,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
