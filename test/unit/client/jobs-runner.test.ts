// The job runner against the real worker process and the real engine on the bundled demo model.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { startJob, JobProgress } from '../../../client/src/jobs/runner';
import { JobCancelledError, JobCrashedError, JobError } from '../../../client/src/jobs/errors';
import { TextTokenizer } from '../../../native/lib/tokenizer';
import { RuntimeModel } from '../../../native/lib/runtime';
import { isRunning } from '../../../native/model';

const root = path.join(__dirname, '..', '..', '..', '..');
const model = path.join(root, 'examples', 'tiny-llama');
const wikitext = fs.readFileSync(path.join(root, 'examples', 'data', 'wikitext2-test.txt'), 'utf8');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-jobs-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

/** A short text (a few hundred tokens) and a long one (about 45 windows of 256), both real WikiText-2. */
const shortText = path.join(scratch, 'short.txt');
fs.writeFileSync(shortText, wikitext.slice(0, 1500));
const longText = path.join(scratch, 'long.txt');
fs.writeFileSync(longText, wikitext.slice(0, 3000).repeat(12));

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validateRunResult = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'run-result.schema.json'), 'utf8')));

/** Elements of every tensor in a safetensors file, from its header (u64 length + JSON). */
function parameterCount(file: string): number {
  const bytes = fs.readFileSync(file);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8')) as Record<
    string,
    { shape?: number[] }
  >;
  return Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .reduce((sum, [, t]) => sum + (t.shape ?? []).reduce((n, d) => n * d, 1), 0);
}

/** Everything in the folder that is `name` or a staging folder of it. */
function outputsNamed(name: string): string[] {
  return fs.readdirSync(scratch).filter((n) => n === name || n.startsWith(`${name}.tmp-`));
}

test('a perplexity job reports load, tokenize and every window in order, then a result that validates', async () => {
  const seq = 64;
  const tokens = TextTokenizer.load(model).encode(fs.readFileSync(shortText, 'utf8'), { addSpecialTokens: false });
  const windows = Math.ceil((tokens.length - 1) / seq);
  const progress: JobProgress[] = [];
  const result = await startJob({ kind: 'perplexity', model, options: { text: shortText, seq } }, { onProgress: (p) => progress.push(p) });

  const steps = progress.map((p) => `${p.phase} ${p.current}/${p.total}`);
  const expected = [
    'load 0/1',
    'load 1/1',
    'tokenize 0/1',
    'tokenize 1/1',
    ...Array.from({ length: windows }, (_, i) => `perplexity ${i + 1}/${windows}`),
  ];
  assert.deepEqual(steps, expected);
  assert.equal(progress.at(-1)?.etaSeconds, 0);
  assert.equal(progress[3].message, `${tokens.length} tokens`);

  assert.ok(validateRunResult(result), JSON.stringify(validateRunResult.errors));
  assert.equal(result.kind, 'perplexity');
  assert.deepEqual(result.model, {
    ref: model,
    path: model,
    params: parameterCount(path.join(model, 'model.safetensors')),
    architecture: 'LlamaForCausalLM',
  });
  assert.equal(result.metrics.tokens, tokens.length);
  assert.equal(result.metrics.windows, windows);
  // The worker measured the text and window size it was given: the same computation in this process agrees.
  const direct = await RuntimeModel.open(model).perplexity(tokens, { seq });
  assert.ok(
    Math.abs((result.metrics.perplexity ?? 0) - direct.perplexity) <= 1e-9 * direct.perplexity,
    `${result.metrics.perplexity} vs ${direct.perplexity}`,
  );
});

test('a generate job streams its text as tokens and saves it in the staged output folder', async () => {
  const chunks: string[] = [];
  const progress: string[] = [];
  const out = path.join(scratch, 'generated');
  const result = await startJob(
    { kind: 'generate', model, options: { prompt: 'The game', maxTokens: 12, out } },
    {
      onToken: (text) => chunks.push(text),
      onProgress: (p) => progress.push(`${p.phase} ${p.current}/${p.total} ${p.message ?? ''}`.trim()),
    },
  );
  assert.deepEqual(progress, [`load 0/1 opening ${model}`, 'load 1/1', 'generate 0/12', 'generate 12/12 stopped: maxTokens']);
  assert.ok(validateRunResult(result), JSON.stringify(validateRunResult.errors));
  assert.ok(chunks.length > 1);
  assert.equal(chunks.join(''), result.text);
  assert.equal(result.metrics.tokens, 12);
  assert.equal(fs.readFileSync(path.join(out, 'text.txt'), 'utf8'), result.text);
  assert.deepEqual(outputsNamed('generated'), ['generated']);
  const bytes = fs.readdirSync(out).reduce((sum, n) => sum + fs.statSync(path.join(out, n)).size, 0);
  assert.deepEqual(result.output, { folder: out, bytes });
});

/** The job rejects with JobCancelledError within a second of the cancel (at `cancelledAt()`), the worker
 *  killed or stopped by itself as `killed` says. */
async function rejectsAsCancelledWithinASecond(
  t: TestContext,
  job: Promise<unknown>,
  cancelledAt: () => bigint,
  { killed }: { killed: boolean },
): Promise<void> {
  const error = await job.then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = Number(process.hrtime.bigint() - cancelledAt()) / 1e6;
  assert.ok(error instanceof JobCancelledError, String(error));
  t.diagnostic(`rejected ${ms.toFixed(1)} ms after cancel`);
  assert.equal(error.killed, killed, killed ? 'the worker had to be killed' : 'the worker stopped by itself');
  assert.ok(cancelledAt() !== 0n && ms < 1000, `rejected ${ms.toFixed(0)} ms after cancel`);
}

test('cancel stops the worker within a second, leaves no output and rejects with JobCancelledError', async (t) => {
  const out = path.join(scratch, 'cancelled');
  const controller = new AbortController();
  let pid = 0;
  let stagedWhenCancelled = false;
  let cancelledAt = 0n;
  const job = startJob(
    { kind: 'perplexity', model, options: { text: longText, seq: 256, out } },
    {
      signal: controller.signal,
      onStarted: (p) => (pid = p),
      onProgress: (p) => {
        if (p.phase !== 'perplexity' || cancelledAt !== 0n) return;
        assert.ok(p.current < p.total, 'cancelled mid-job');
        stagedWhenCancelled = fs.existsSync(`${out}.tmp-${pid}`);
        cancelledAt = process.hrtime.bigint();
        controller.abort();
      },
    },
  );
  await rejectsAsCancelledWithinASecond(t, job, () => cancelledAt, { killed: false });
  assert.equal(stagedWhenCancelled, true);
  assert.equal(isRunning(pid), false);
  assert.deepEqual(outputsNamed('cancelled'), []);
});

test('cancel stops a streaming generation between tokens', async () => {
  const controller = new AbortController();
  let chunks = 0;
  const job = startJob(
    { kind: 'generate', model, options: { prompt: 'The game', maxTokens: 500 } },
    {
      signal: controller.signal,
      onToken: () => {
        if (++chunks === 1) controller.abort();
      },
    },
  );
  const error = await job.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof JobCancelledError, String(error));
  assert.equal(error.killed, false);
  assert.ok(chunks < 500, `${chunks} chunks arrived`);
});

test('a worker busy in synchronous work is killed on cancel, still within a second, and its staging folder removed', async (t) => {
  const out = path.join(scratch, 'killed-on-cancel');
  const controller = new AbortController();
  let pid = 0;
  let cancelledAt = 0n;
  // Tokenizing a 4.7 MB text keeps the worker's event loop busy for seconds: it cannot read the cancel message.
  const hugeText = path.join(scratch, 'huge.txt');
  const valid = fs.readFileSync(path.join(root, 'examples', 'data', 'wikitext2-valid.txt'), 'utf8');
  fs.writeFileSync(hugeText, (wikitext + valid).repeat(2));
  const job = startJob(
    { kind: 'perplexity', model, options: { text: hugeText, seq: 256, out } },
    {
      signal: controller.signal,
      onStarted: (p) => (pid = p),
      onProgress: (p) => {
        if (p.phase === 'tokenize' && p.current === 0) {
          cancelledAt = process.hrtime.bigint();
          controller.abort();
        }
      },
    },
  );
  await rejectsAsCancelledWithinASecond(t, job, () => cancelledAt, { killed: true });
  assert.equal(isRunning(pid), false);
  assert.deepEqual(outputsNamed('killed-on-cancel'), []);
});

test('a worker that dies (SIGKILL) becomes a JobCrashedError naming the signal, with its last log lines', async () => {
  const out = path.join(scratch, 'crashed');
  let pid = 0;
  let killed = false;
  const job = startJob(
    { kind: 'perplexity', model, options: { text: longText, seq: 256, out } },
    {
      onStarted: (p) => (pid = p),
      onProgress: (p) => {
        if (p.phase === 'perplexity' && !killed) {
          killed = true;
          process.kill(pid, 'SIGKILL');
        }
      },
    },
  );
  const error = await job.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof JobCrashedError, String(error));
  assert.equal(error.signal, 'SIGKILL');
  assert.equal(error.exitCode, null);
  assert.match(error.message, /worker process was killed by SIGKILL/);
  assert.deepEqual(error.lastLogLines, [`[info] perplexity on ${model}`]);
  assert.equal(isRunning(pid), false);
  assert.deepEqual(outputsNamed('crashed'), []);
});

test('a bad model path is a JobError naming the path, before any output is created', async () => {
  const missing = path.join(scratch, 'no-such-model');
  const out = path.join(scratch, 'never-written');
  const error = await startJob({ kind: 'perplexity', model: missing, options: { out } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof JobError, String(error));
  assert.equal(error.code, 'MODEL_NOT_FOUND');
  assert.equal(error.where, missing);
  assert.equal(error.message, `model folder not found: ${missing}; pick a local folder holding config.json and the weights`);
  assert.deepEqual(outputsNamed('never-written'), []);

  const noConfig = fs.mkdtempSync(path.join(scratch, 'empty-model-'));
  const error2 = await startJob({ kind: 'generate', model: noConfig, options: { prompt: 'x' } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error2 instanceof JobError);
  assert.equal(error2.code, 'MODEL_NOT_FOUND');
  assert.equal(error2.where, path.join(noConfig, 'config.json'));

  // config.json but no weights: caught from the headers, before the engine loads anything.
  fs.copyFileSync(path.join(model, 'config.json'), path.join(noConfig, 'config.json'));
  const error3 = await startJob({ kind: 'generate', model: noConfig, options: { prompt: 'x' } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error3 instanceof JobError);
  assert.equal(error3.code, 'INVALID_MODEL');
  assert.equal(error3.where, noConfig);
  assert.match(error3.message, /neither model\.safetensors nor model\.safetensors\.index\.json found/);
});

test('invalid options and a quantize job without a config are JobErrors that say what to change', async () => {
  const badSeq = await startJob({ kind: 'perplexity', model, options: { seq: 0 } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(badSeq instanceof JobError);
  assert.deepEqual(
    [badSeq.code, badSeq.where, badSeq.message],
    ['INVALID_JOB', 'options.seq', 'options.seq must be a positive integer, got 0'],
  );

  const missingText = path.join(scratch, 'missing.txt');
  const noText = await startJob({ kind: 'perplexity', model, options: { text: missingText } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(noText instanceof JobError);
  assert.deepEqual([noText.code, noText.where], ['INPUT_NOT_FOUND', missingText]);

  const quantize = await startJob({ kind: 'quantize', model, options: { out: path.join(scratch, 'q') } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(quantize instanceof JobError);
  assert.deepEqual(
    [quantize.code, quantize.where, quantize.message],
    ['INVALID_JOB', 'config', 'quantize jobs need a quantization config (job.config)'],
  );
  assert.ok(!fs.existsSync(path.join(scratch, 'q')));

  // A per-module override the engine does not apply is refused before any work, naming the field (the corpus's
  // DeepSeek-R1-Distill config, its down_proj key given a damp_percent too).
  const corpusConfig = path.join(root, 'test', 'fixtures', 'corpus', 'gptqmodel-deepseek-r1-distill-dynamic', 'quantize_config.json');
  const dynamicConfig = JSON.parse(fs.readFileSync(corpusConfig, 'utf8')) as { dynamic: Record<string, Record<string, unknown>> };
  dynamicConfig.dynamic['+:.*mlp.down_proj']!.damp_percent = 0.05;
  const dynamicOut = path.join(scratch, 'q-dynamic');
  const dynamic = await startJob({ kind: 'quantize', model, config: dynamicConfig, options: { out: dynamicOut } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(dynamic instanceof JobError);
  assert.deepEqual(
    [dynamic.code, dynamic.where, dynamic.message],
    [
      'INVALID_JOB',
      'config',
      'quantization_config.dynamic["+:.*mlp.down_proj"].damp_percent: the engine honours bits, group_size, desc_act, sym per ' +
        'module; remove damp_percent or quantize with GPTQModel 7.7',
    ],
  );
  assert.ok(!fs.existsSync(dynamicOut));

  const benchmark = await startJob({ kind: 'benchmark', model, options: { batchSizes: [1, 0] } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(benchmark instanceof JobError);
  assert.deepEqual(
    [benchmark.code, benchmark.where, benchmark.message],
    ['INVALID_JOB', 'options.batchSizes', 'options.batchSizes must be a non-empty list of positive integers, got [1,0]'],
  );
});
