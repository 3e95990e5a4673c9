// The run store: atomic saves named by start time and kind, read back unchanged, listed newest first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listRuns, readRun, runsFolder, saveRun } from '../../../client/src/jobs/runStore';
import type { RunResult } from '../../../native/worker/protocol';

function run(id: string, kind: RunResult['kind'], startedAt: string): RunResult {
  return {
    schemaVersion: 1,
    id,
    kind,
    startedAt,
    finishedAt: startedAt,
    durationSeconds: 2.5,
    model: { ref: 'examples/tiny-llama', path: '/models/tiny-llama', architecture: 'LlamaForCausalLM' },
    environment: { engineVersion: '0.1.0', threads: 2, cpu: 'AMD EPYC', avx2: true, os: 'linux', node: 'v20.20.2' },
    metrics: { perplexity: 57.7785686836842, tokens: 933 },
  };
}

function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-runs-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a saved run is named <timestamp>-<kind>.json under .quantstudio/runs and reads back unchanged', () => {
  const folder = runsFolder(workspace());
  assert.equal(path.basename(path.dirname(folder)), '.quantstudio');
  const result = run('a', 'perplexity', '2026-11-23T11:07:43.120Z');
  const file = saveRun(folder, result);
  assert.equal(file, path.join(folder, '2026-11-23T11-07-43-120Z-perplexity.json'));
  assert.deepEqual(readRun(file), result);
  assert.deepEqual(fs.readdirSync(folder), ['2026-11-23T11-07-43-120Z-perplexity.json']); // no temp file left
});

test('two runs started in the same millisecond get two files', () => {
  const folder = runsFolder(workspace());
  const first = saveRun(folder, run('a', 'generate', '2026-11-23T11:00:00.000Z'));
  const second = saveRun(folder, run('b', 'generate', '2026-11-23T11:00:00.000Z'));
  assert.equal(path.basename(second), '2026-11-23T11-00-00-000Z-generate-2.json');
  assert.deepEqual([readRun(first).id, readRun(second).id], ['a', 'b']);
});

test('listing gives the runs newest first and names the files that are not run results', () => {
  const ws = workspace();
  const folder = runsFolder(ws, 'runs');
  assert.deepEqual(listRuns(folder), { runs: [], broken: [] });
  saveRun(folder, run('old', 'perplexity', '2026-11-20T09:00:00.000Z'));
  saveRun(folder, run('new', 'generate', '2026-11-23T09:00:00.000Z'));
  saveRun(folder, run('mid', 'benchmark', '2026-11-21T09:00:00.000Z'));
  fs.writeFileSync(path.join(folder, 'notes.json'), '{"hello": 1}');
  fs.writeFileSync(path.join(folder, 'cut.json'), '{"schemaVersion": 1, "id"');
  fs.writeFileSync(path.join(folder, 'readme.txt'), 'not json');

  const { runs, broken } = listRuns(folder);
  assert.deepEqual(
    runs.map((r) => [r.id, r.kind, r.startedAt, r.model]),
    [
      ['new', 'generate', '2026-11-23T09:00:00.000Z', 'examples/tiny-llama'],
      ['mid', 'benchmark', '2026-11-21T09:00:00.000Z', 'examples/tiny-llama'],
      ['old', 'perplexity', '2026-11-20T09:00:00.000Z', 'examples/tiny-llama'],
    ],
  );
  assert.deepEqual(
    runs.map((r) => path.basename(r.file)),
    ['2026-11-23T09-00-00-000Z-generate.json', '2026-11-21T09-00-00-000Z-benchmark.json', '2026-11-20T09-00-00-000Z-perplexity.json'],
  );
  assert.deepEqual(broken.map((b) => path.basename(b.file)).sort(), ['cut.json', 'notes.json']);
  const notes = broken.find((b) => b.file.endsWith('notes.json'));
  assert.equal(notes?.error, `${path.join(folder, 'notes.json')}: not a run result of schema version 1 (schemaVersion is undefined)`);
  assert.match(broken.find((b) => b.file.endsWith('cut.json'))?.error ?? '', /cut\.json: not a readable run result \(/);
});
