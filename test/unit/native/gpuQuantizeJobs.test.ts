// The GPU bench's quantize jobs (test/bench/_gpu_quantize_7b_jobs.json, read on a machine without Node) are what the
// worker would send the runner today: the file equals a fresh write by test/bench/_gpu-quantize-7b-jobs.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.join(__dirname, '..', '..', '..', '..');
// A real ES module import from this CommonJS build (TypeScript would turn import() into require()).
const importModule = new Function('url', 'return import(url)') as (
  url: string,
) => Promise<{ gpuQuantizeJobs(): unknown; JOBS_FILE: string }>;

test('the GPU quantize jobs carry the plans and recipes the worker sends now', async () => {
  const jobs = await importModule(pathToFileURL(path.join(root, 'test', 'bench', '_gpu-quantize-7b-jobs.mjs')).href);
  const written = JSON.parse(fs.readFileSync(jobs.JOBS_FILE, 'utf8'));
  assert.deepEqual(written, jobs.gpuQuantizeJobs(), 'rerun: node test/bench/_gpu-quantize-7b-jobs.mjs');
});
