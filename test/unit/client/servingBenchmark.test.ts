// The serving benchmark against a loopback server speaking the OpenAI completions API as vLLM streams it (one
// token per chunk, usage at the end): the figures, the requests sent, the concurrency kept, the API key's
// rules (only to the endpoint it was given for, never through a redirect), and each failure's message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { startJob } from '../../../client/src/jobs/runner';
import { JobCancelledError, JobError } from '../../../client/src/jobs/errors';
import { benchmarkJobFromJobFile } from '../../../client/src/jobs/benchmarkJobFile';
import { servingKeyFor } from '../../../native/model';
import { sseData } from '../../../native/worker/handlers/serving/sse';
import { percentile } from '../../../native/worker/handlers/serving/stats';
import { SERVING_DEFAULTS } from '../../../native/worker/handlers/serving/plan';
import { sleep, startServingServer as fakeServer } from '../../helpers/servingServer';

const root = path.join(__dirname, '..', '..', '..', '..');
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validateRunResult = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'run-result.schema.json'), 'utf8')));

const servingJob = (endpoint: string, options: Record<string, unknown> = {}) => ({
  kind: 'serving' as const,
  model: 'tiny',
  options: { endpoint, concurrency: [1, 3], requests: 6, promptWords: 20, maxTokens: 8, ...options },
});

test('a sweep measures each level from the streamed chunks and the server usage, keeping its concurrency', async () => {
  const server = await fakeServer({ firstMs: 30, gapMs: 4 });
  try {
    const run = await startJob(servingJob(server.base));
    assert.ok(validateRunResult(run), JSON.stringify(validateRunResult.errors));
    assert.equal(run.kind, 'serving');
    assert.deepEqual(run.endpoint, {
      url: server.base,
      model: 'tiny',
      server: 'fake-vllm · vllm',
      tokenCount: 'usage',
      authenticated: false,
    });
    assert.deepEqual(
      run.serving!.map((l) => [l.concurrency, l.completed, l.failed, l.meanPromptTokens, l.meanOutputTokens]),
      [
        [1, 6, 0, 20, 8],
        [3, 6, 0, 20, 8],
      ],
    );
    // 1 warm-up + 6 per level, each a different stretch of text, with only the OpenAI API's own fields
    assert.equal(server.seen.bodies.length, 13);
    assert.equal(new Set(server.seen.bodies.map((b) => b.prompt)).size, 13);
    assert.deepEqual(Object.keys(server.seen.bodies[0]!).sort(), ['max_tokens', 'model', 'prompt', 'stream', 'stream_options']);
    assert.equal(server.seen.maxInFlight, 3);
    for (const level of run.serving!) {
      assert.ok(level.timeToFirstTokenMs.median >= 30, `TTFT ${level.timeToFirstTokenMs.median}`);
      assert.ok(
        level.interTokenLatencyMs.median >= 3.5 && level.interTokenLatencyMs.median < 30,
        `ITL ${level.interTokenLatencyMs.median}`,
      );
      assert.ok(level.timePerOutputTokenMs.median >= 3.5, `TPOT ${level.timePerOutputTokenMs.median}`);
      assert.ok(level.requestLatencyMs.median > level.timeToFirstTokenMs.median);
      assert.ok(Math.abs(level.outputTokensPerSecond - (6 * 8) / level.durationSeconds) < 1e-9);
      assert.ok(Math.abs(level.requestsPerSecond - 6 / level.durationSeconds) < 1e-9);
    }
    // three clients finish the same six requests in well under the one client's time
    assert.ok(run.serving![1]!.durationSeconds < run.serving![0]!.durationSeconds * 0.75);
    assert.equal(run.metrics.tokensPerSecond, Math.max(...run.serving!.map((l) => l.outputTokensPerSecond)));
    assert.equal(server.seen.authorization.filter((a) => a !== undefined).length, 0);
  } finally {
    await server.close();
  }
});

test('ignoreEos is sent only when asked for', async () => {
  const server = await fakeServer();
  try {
    await startJob(servingJob(server.base, { concurrency: [2], requests: 2, ignoreEos: true }));
    assert.ok(server.seen.bodies.every((b) => b.ignore_eos === true));
  } finally {
    await server.close();
  }
});

test('the API key goes to the endpoint it was given for, to no other, and never through a redirect', async () => {
  const server = await fakeServer();
  const other = await fakeServer();
  const redirecting = await fakeServer({
    handle: (req, res) => {
      if (req.url !== '/v1/completions') return false;
      res.writeHead(307, { location: `${other.base}/completions` });
      res.end();
      return true;
    },
  });
  try {
    const granted = await startJob(servingJob(server.base, { concurrency: [1], requests: 1 }), {
      serving: { token: 'sk-test-123', endpoint: server.base },
    });
    assert.equal(granted.endpoint!.authenticated, true);
    assert.deepEqual([...new Set(server.seen.authorization)], ['Bearer sk-test-123']);
    assert.doesNotMatch(JSON.stringify(granted), /sk-test-123/);

    const elsewhere = await startJob(servingJob(other.base, { concurrency: [1], requests: 1 }), {
      serving: { token: 'sk-test-123', endpoint: server.base },
    });
    assert.equal(elsewhere.endpoint!.authenticated, false);
    assert.deepEqual([...new Set(other.seen.authorization)], [undefined]);

    const before = other.seen.authorization.length;
    await assert.rejects(
      startJob(servingJob(redirecting.base, { concurrency: [1], requests: 1 }), {
        serving: { token: 'sk-test-123', endpoint: redirecting.base },
      }),
      (error: unknown) =>
        error instanceof JobError && error.code === 'NOT_AVAILABLE' && /warm-up request .* failed: .*redirect/i.test(error.message),
    );
    assert.equal(other.seen.authorization.length, before, 'the redirect target got no request');
  } finally {
    await Promise.all([server.close(), other.close(), redirecting.close()]);
  }
});

test('a server that wants a key, one that is not there, and a broken stream each say what went wrong', async () => {
  const locked = await fakeServer({
    handle: (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"missing key"}');
      return true;
    },
  });
  const broken = await fakeServer({
    handle: (req, res) => {
      if (req.url !== '/v1/completions') return false;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"choices":[{"text":" a"}]}\n\ndata: {not json\n\n');
      return true;
    },
  });
  try {
    await assert.rejects(startJob(servingJob(locked.base)), (error: unknown) => {
      assert.ok(error instanceof JobError);
      assert.equal(error.code, 'NEEDS_API_KEY');
      assert.match(error.message, /answered 401: it wants an API key, and none was given for this endpoint .*Set Serving API Key/);
      return true;
    });
    const closed = await fakeServer();
    await closed.close(); // a port nothing listens on any more
    const closedPort = closed.base;
    await assert.rejects(startJob(servingJob(closedPort)), (error: unknown) => {
      assert.ok(error instanceof JobError);
      assert.match(
        error.message,
        /no OpenAI-compatible server answered at http:\/\/127\.0\.0\.1:\d+\/v1\/models: fetch failed \(ECONNREFUSED\)\. Start the server first/,
      );
      return true;
    });
    await assert.rejects(
      startJob(servingJob(broken.base)),
      /warm-up request .* failed: the server streamed an event that is not JSON: \{not json/,
    );
    await assert.rejects(startJob(servingJob('ftp://127.0.0.1/v1')), /options\.endpoint must be an http\(s\) URL/);
  } finally {
    await Promise.all([locked.close(), broken.close()]);
  }
});

test('cancel stops a sweep whose server stalls, within a second', async () => {
  const server = await fakeServer({ firstMs: 3000 });
  try {
    const abort = new AbortController();
    const running = startJob(servingJob(server.base), { signal: abort.signal });
    await sleep(500);
    const at = Date.now();
    abort.abort();
    await assert.rejects(running, JobCancelledError);
    assert.ok(Date.now() - at < 1000);
  } finally {
    server.close().catch(() => undefined);
  }
});

test('events are read across chunk boundaries and CRLF lines, up to [DONE]', async () => {
  const parts = ['data: {"a"', ':1}\r\n\r\n: comment\n', 'data: x\ndata: y\n\n', 'data: [DONE]\n\ndata: after\n\n'];
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
      controller.close();
    },
  });
  const events: string[] = [];
  for await (const e of sseData(body)) events.push(e);
  assert.deepEqual(events, ['{"a":1}', 'x\ny']);
});

test('percentiles are linear between the nearest ranks', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([10, 20, 30, 40, 50], 90), 46);
  assert.equal(percentile([7], 99), 7);
});

test('a key is given for one endpoint only: exact, over https or to this machine', () => {
  const env = (endpoint: string) => ({ QUANTSTUDIO_SERVING_API_KEY: 'k', QUANTSTUDIO_SERVING_ENDPOINT: endpoint });
  assert.equal(servingKeyFor('http://127.0.0.1:8000/v1', env('http://127.0.0.1:8000/v1')), 'k');
  assert.equal(servingKeyFor('http://127.0.0.1:8000/v1', env('http://127.0.0.1:8000')), 'k');
  assert.equal(servingKeyFor('http://127.0.0.1:8001/v1', env('http://127.0.0.1:8000/v1')), undefined);
  assert.equal(servingKeyFor('https://api.example.com/v1', env('https://api.example.com/v1/')), 'k');
  assert.equal(servingKeyFor('http://gpu-box:8000/v1', env('http://gpu-box:8000/v1')), undefined); // plain http off this machine
  assert.equal(servingKeyFor('http://127.0.0.1:8000/v1', { QUANTSTUDIO_SERVING_API_KEY: 'k' }), undefined);
});

test('a job file with benchmark.endpoint is a serving job; its model defaults to the file model as written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-serving-'));
  try {
    const file = path.join(dir, 'serve.quant.json');
    const config = { quant_method: 'gptq', bits: 4, group_size: 128 };
    fs.writeFileSync(
      file,
      JSON.stringify({
        model: 'meta-llama/Llama-3.1-8B',
        quantization_config: config,
        benchmark: { endpoint: { url: 'http://127.0.0.1:8000/v1', concurrency: [1, 8] } },
      }),
    );
    assert.deepEqual(benchmarkJobFromJobFile(file), {
      kind: 'serving',
      model: 'meta-llama/Llama-3.1-8B',
      options: { endpoint: 'http://127.0.0.1:8000/v1', concurrency: [1, 8] },
    });
    fs.writeFileSync(file, JSON.stringify({ model: 'x', quantization_config: config, benchmark: { endpoint: { model: 'y' } } }));
    assert.match(String(benchmarkJobFromJobFile(file)), /benchmark\.endpoint\.url .* is missing/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the serving defaults are the job schema defaults', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'job.schema.json'), 'utf8'));
  const fields = schema.properties.benchmark.properties.endpoint.properties;
  for (const [name, value] of Object.entries(SERVING_DEFAULTS)) assert.deepEqual(fields[name].default, value, name);
});
