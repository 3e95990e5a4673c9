// Every cancellable async binding runs through one template (native/src/bindings/async_job.h) with one cancel
// flag. Each test here aborts from the job's own first progress event, so the flag is raised while the worker
// is running, and checks the "cancelled" rejection, that the job stopped early, and that nothing is left behind.
// (The pipeline, generate and the batched runtime calls are cancelled mid-run in their own test files.)
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { awqSearchScales } from '../../native/lib/awq';
import { gptqQuantize } from '../../native/lib/gptq';
import { writeCheckpoint } from '../../native/lib/io';
import { idsPerplexity } from '../../native/lib/perplexity';
import { quantize } from '../../native/lib/quant';
import { openModel } from '../../native/lib/runtime';
import { correlatedActivations, randomMatrix } from './gptqAwqFixtures';
import { removeTempDirs, tempDir } from './pipeline-fixtures';
import { tinyLlamaDir } from './runtime-fixtures';

after(removeTempDirs);

/** A signal and a progress listener that records each event and aborts on the first. */
function abortOnFirst(): { signal: AbortSignal; seen: number[]; onProgress: (done: number) => void } {
  const controller = new AbortController();
  const seen: number[] = [];
  return {
    signal: controller.signal,
    seen,
    onProgress: (done) => {
      seen.push(done);
      controller.abort();
    },
  };
}

test('quantize (rtn, int8) stops mid-matrix with "cancelled"', async () => {
  const rows = 64 * 256;
  const cols = 512;
  const w = randomMatrix(rows, cols, 1);
  for (const method of ['rtn', 'int8'] as const) {
    const run = abortOnFirst();
    await assert.rejects(quantize(method, w, rows, cols, { groupSize: 128 }, run), { message: 'cancelled' });
    assert.ok(run.seen.length >= 1 && run.seen.at(-1)! < rows, `${method}: progress ${run.seen.join(',')} of ${rows} rows`);
  }
});

test('gptqQuantize stops between lazy blocks with "cancelled"', async () => {
  const rows = 2048; // the lazy blocks after the first take ~0.1 s here: room for the abort to land
  const cols = 1024;
  const run = abortOnFirst();
  const x = correlatedActivations(256, cols, 3);
  await assert.rejects(gptqQuantize(randomMatrix(rows, cols, 2), rows, cols, [x], { groupSize: 128, blockSize: 64 }, run), {
    message: 'cancelled',
  });
  assert.ok(run.seen.length >= 1 && run.seen.at(-1)! < cols, `progress ${run.seen.join(',')} of ${cols} columns`);
});

test('awqSearchScales stops between grid points with "cancelled"', async () => {
  const rows = 256;
  const cols = 512;
  const run = abortOnFirst();
  const x = correlatedActivations(512, cols, 5);
  await assert.rejects(awqSearchScales([{ weight: randomMatrix(rows, cols, 4), rows }], cols, x, { groupSize: 128, scaleGrid: 20 }, run), {
    message: 'cancelled',
  });
  assert.ok(run.seen.length >= 1 && run.seen.at(-1)! < 20, `progress ${run.seen.join(',')} of 20 grid points`);
});

test('a throwing progress listener stops the job like an abort', async () => {
  const rows = 2048; // the lazy blocks after the first take ~0.1 s here: room for the abort to land
  const cols = 1024;
  const calls: number[] = [];
  const onProgress = (done: number): void => {
    calls.push(done);
    throw new Error('listener failed');
  };
  const x = correlatedActivations(256, cols, 7);
  await assert.rejects(gptqQuantize(randomMatrix(rows, cols, 6), rows, cols, [x], { groupSize: 128, blockSize: 64 }, { onProgress }), {
    message: 'cancelled',
  });
  assert.equal(calls.length, 1);
});

test('writeCheckpoint stops between tensors with "cancelled" and leaves no output or temp folder', async () => {
  const parent = tempDir('cancel-writer');
  const out = path.join(parent, 'out');
  // 64 tensors of 4 MiB (one shared buffer): the whole file takes over a second to write, so the abort, sent when
  // the main thread hears the first progress event, lands mid-file even on a loaded machine (16 MiB in all was
  // written before a busy main thread heard the first event).
  const data = randomMatrix(1024, 1024, 7);
  const tensors = Array.from({ length: 64 }, (_, i) => ({ name: `t${i}`, dtype: 'F32' as const, shape: [1024, 1024], data }));
  const files = [
    { name: 'config.json', text: '{}\n' },
    { name: 'model.safetensors', tensors },
  ];
  const run = abortOnFirst();
  await assert.rejects(writeCheckpoint(out, files, run), { message: 'cancelled' });
  assert.ok(run.seen.length >= 1 && run.seen.at(-1)! < 65, `progress ${run.seen.join(',')} of 65 items`);
  assert.deepEqual(fs.readdirSync(parent), []);
  // The same folder is writable afterwards: no lock or half-made folder remains.
  await writeCheckpoint(out, [files[0]]);
  assert.deepEqual(fs.readdirSync(out), ['config.json']);
});

test('perplexity stops between windows with "perplexity cancelled"', async () => {
  const model = openModel(tinyLlamaDir);
  const controller = new AbortController();
  const seen: number[] = [];
  const ids = Array.from({ length: 16 * 32 + 1 }, (_, i) => (i * 7) % 4000);
  const onProgress = (done: number): void => {
    seen.push(done);
    controller.abort();
  };
  await assert.rejects(idsPerplexity(model, ids, { seq: 32, onProgress, signal: controller.signal }), { message: 'perplexity cancelled' });
  assert.ok(seen.length >= 1 && seen.at(-1)! < 16, `progress ${seen.join(',')} of 16 windows`);
});
