// The quantstudio.* settings as the commands read them: every value typed and checked, a wrong value
// (hand-edited settings.json) falls back to its default, and the thread count reaches the job worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchSizes, readSettings } from '../../../client/src/extension/settings';
import { join } from 'node:path';
import { startJob, workerEnv } from '../../../client/src/jobs/runner';
import { engineThreads } from '../../../native/worker/protocol';

/** A settings scope holding exactly these values (VS Code's WorkspaceConfiguration.get returns undefined for the rest). */
function scope(values: Record<string, unknown>): { get<T>(key: string): T | undefined } {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

test('no settings: the documented defaults', () => {
  const s = readSettings(scope({}));
  assert.deepEqual(s.benchmark, { batchSizes: [1, 16] });
  assert.deepEqual(s.generate, { maxTokens: 64, temperature: 0, topK: 0, topP: 1, seed: 0, backend: 'engine' });
  assert.deepEqual(s.engine, { threads: 0, kvCache: 'fp32', lmHead: 'stored', adapter: '' });
  assert.equal(s.runsFolder, '.quantstudio/runs');
  assert.deepEqual(s.hub, { endpoint: 'https://huggingface.co', tokenEndpoints: [] });
  assert.deepEqual(s.estimate, { batchSize: 1, contextLength: 2048 });
});

test('set values are read as given', () => {
  const s = readSettings(
    scope({
      'engine.threads': 3,
      'engine.kvCache': 'fp16',
      'engine.lmHead': 'int8',
      'engine.adapter': ' adapters/chat-lora ',
      'benchmark.batchSizes': [16, 1, 4],
      'generate.maxTokens': 200,
      'generate.temperature': 0.7,
      'generate.topK': 40,
      'generate.topP': 0.9,
      'generate.seed': 1234,
      'generate.backend': 'python',
      runsFolder: 'results/runs',
      'hub.endpoint': 'http://127.0.0.1:8080',
    }),
  );
  assert.deepEqual(s.engine, { threads: 3, kvCache: 'fp16', lmHead: 'int8', adapter: 'adapters/chat-lora' });
  assert.deepEqual(s.benchmark, { batchSizes: [1, 4, 16] });
  assert.deepEqual(s.generate, { maxTokens: 200, temperature: 0.7, topK: 40, topP: 0.9, seed: 1234, backend: 'python' });
  assert.equal(s.runsFolder, 'results/runs');
  assert.equal(s.hub.endpoint, 'http://127.0.0.1:8080');
});

test('out-of-range or mistyped values fall back to their defaults, one by one', () => {
  const s = readSettings(
    scope({
      'engine.threads': -2,
      'engine.kvCache': 'f16',
      'engine.lmHead': 'q8',
      'engine.adapter': 7,
      'generate.maxTokens': 0,
      'generate.temperature': '0.5',
      'generate.topK': 2.5,
      'generate.topP': 1.5,
      'generate.seed': -1,
      'generate.backend': 'gpu',
    }),
  );
  assert.deepEqual(s.engine, { threads: 0, kvCache: 'fp32', lmHead: 'stored', adapter: '' });
  assert.deepEqual(s.generate, { maxTokens: 64, temperature: 0, topK: 0, topP: 1, seed: 0, backend: 'engine' });
});

test('batch sizes: positive integers, sorted, without repeats; anything else is the default [1, 16]', () => {
  assert.deepEqual(batchSizes([8, 2, 8]), [2, 8]);
  assert.deepEqual(batchSizes([1]), [1]);
  for (const bad of [[], [0, 4], [1, 2.5], ['1', 16], 16, undefined, null]) assert.deepEqual(batchSizes(bad), [1, 16], JSON.stringify(bad));
});

test('quantstudio.engine.threads reaches the worker as QUANTSTUDIO_THREADS, and the worker reports what the engine uses', () => {
  const base = { PATH: '/usr/bin' };
  assert.deepEqual(workerEnv(3, base), { PATH: '/usr/bin', QUANTSTUDIO_THREADS: '3' });
  assert.equal(workerEnv(0, base), base, '0 = one per core: the environment is left as it is');
  assert.equal(workerEnv(undefined, base), base);
  // the rule of the engine's pool (native/src/core/thread_pool.cc): a positive QUANTSTUDIO_THREADS, else every hardware thread
  assert.equal(engineThreads(16, { QUANTSTUDIO_THREADS: '3' }), 3);
  assert.equal(engineThreads(16, { QUANTSTUDIO_THREADS: '0' }), 16);
  assert.equal(engineThreads(16, { QUANTSTUDIO_THREADS: 'many' }), 16);
  assert.equal(engineThreads(16, {}), 16);
  assert.equal(engineThreads(0, {}), 1);
});

test('a job started with threads: 1 runs its engine on one thread, as its RunResult records', async () => {
  const model = join(__dirname, '..', '..', '..', '..', 'examples', 'tiny-llama');
  const run = await startJob({ kind: 'generate', model, options: { prompt: 'ROMEO:', maxTokens: 2 } }, { threads: 1 });
  assert.equal(run.environment.threads, 1);
  assert.equal(run.metrics.tokens, 2);
});
