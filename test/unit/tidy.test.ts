// Habits the tree keeps, after rust-analyzer's tidy: no trailing whitespace or tabs, a newline at the end,
// and lines within .editorconfig's max_line_length. The long lines already there are listed per file
// below; a file may not gain any (the counts cover branches being merged, so a lower count is only noted).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');

/** Lines over the limit today, per file; a file not listed may have none. */
const LONG_LINES: Readonly<Record<string, number>> = {
  'client/src/cli/commands/benchmark.ts': 1,
  'client/src/extension/commands/benchmark.ts': 1,
  'client/src/extension/commands/perplexity.ts': 1,
  'client/src/extension/panels/charts.ts': 3,
  'client/src/extension/panels/compareView.ts': 1,
  'client/src/extension/panels/metricsTable.ts': 1,
  'client/src/extension/panels/quantizeSummary.ts': 1,
  'client/src/extension/panels/quantizeView.ts': 1,
  'native/lib/runtime.ts': 3,
  'native/model/download.ts': 1,
  'native/model/hub.ts': 1,
  'native/model/localFolder.ts': 1,
  'native/model/resolve.ts': 1,
  'native/worker/handlers/benchmark.ts': 1,
  'native/worker/handlers/benchmark/inputs.ts': 1,
  'server/src/service/index.ts': 1,
  'server/src/service/modelAware/resolver.ts': 1,
  'server/src/service/rules/model/groupSizeDivides.ts': 1,
  'server/src/service/rules/model/kernelShapes.ts': 1,
  'server/src/service/rules/model/moduleNames.ts': 1,
  'test/bench/memory.mjs': 2,
  'test/bench/run.mjs': 1,
  'test/e2e/vsix.test.mjs': 1,
  'test/fixtures/model-aware/make-fixtures.mjs': 1,
  'test/helpers/hubServer.ts': 2,
  'test/lsp/modelAware.test.ts': 2,
  'test/native/benchmarkPlan.test.ts': 5,
  'test/native/formats.test.ts': 1,
  'test/native/pipeline.test.ts': 1,
  'test/native/runtime.test.ts': 3,
  'test/native/upstreamCheckpoints.test.ts': 1,
  'test/reference/checkpoint-load.test.mjs': 2,
  'test/reference/families-load.test.mjs': 1,
  'test/tools/measure-cpu-constants.mjs': 1,
  'test/unit/client/commandJobs.test.ts': 3,
  'test/unit/client/hfCachePick.test.ts': 1,
  'test/unit/client/jobs-export.test.ts': 3,
  'test/unit/client/runsView.test.ts': 1,
  'test/unit/native/estimate-reference.test.ts': 1,
  'test/unit/native/estimate.test.ts': 2,
  'test/unit/server/modelAware.test.ts': 20,
  'test/unit/server/modelAwareEstimate.test.ts': 1,
  'test/unit/server/modelAwareSettings.test.ts': 1,
};

/** max_line_length per extension, from .editorconfig's `[*.{a,b}]` sections. */
function lineLimits(): Map<string, number> {
  const limits = new Map<string, number>();
  let extensions: string[] = [];
  for (const line of fs.readFileSync(path.join(root, '.editorconfig'), 'utf8').split('\n')) {
    const section = line.match(/^\[\*\.\{?([\w,]+)\}?\]$/);
    if (section) extensions = section[1].split(',');
    const limit = line.match(/^max_line_length\s*=\s*(\d+)/);
    if (limit) for (const ext of extensions) limits.set(ext, Number(limit[1]));
  }
  return limits;
}

const SKIP = new Set(['node_modules', 'out', 'dist', 'build', 'data', '.git']);
function walk(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : walk(rel);
    return /\.(ts|mjs|js|cc|h)$/.test(e.name) ? [rel] : [];
  });
}

const files = ['client', 'server', 'native', 'test'].flatMap(walk);
const limits = lineLimits();

test('.editorconfig sets a line limit for TypeScript and C++', () => {
  assert.equal(limits.get('ts'), 200);
  assert.equal(limits.get('cc'), 150);
  assert.ok(files.length > 300, `found only ${files.length} files`);
});

test('no trailing whitespace, no tabs, a newline at the end of every file', () => {
  const found: string[] = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) found.push(`${file}: no newline at the end`);
    text.split('\n').forEach((line, i) => {
      if (/[ \t]+$/.test(line)) found.push(`${file}:${i + 1}: trailing whitespace`);
      if (line.includes('\t')) found.push(`${file}:${i + 1}: tab`);
    });
  }
  assert.deepEqual(found, []);
});

test('lines within max_line_length, apart from the listed ones: no file gains a long line', (t) => {
  const over: Record<string, number> = {};
  for (const file of files) {
    const limit = limits.get(path.extname(file).slice(1));
    if (limit === undefined) continue;
    const n = fs
      .readFileSync(path.join(root, file), 'utf8')
      .split('\n')
      .filter((l) => l.length > limit).length;
    if (n > 0) over[file] = n;
  }
  const grown = Object.entries(over)
    .filter(([file, n]) => n > (LONG_LINES[file] ?? 0))
    .map(([file, n]) => `${file}: ${n} long lines`);
  assert.deepEqual(grown, [], 'wrap the new long lines');
  const shrunk = Object.entries(LONG_LINES).filter(([file, n]) => (over[file] ?? 0) < n);
  for (const [file, n] of shrunk) t.diagnostic(`${file}: ${over[file] ?? 0} long lines, ${n} allowed; lower its entry`);
});
