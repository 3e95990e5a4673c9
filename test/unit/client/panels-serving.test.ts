// The serving benchmark's panel on a run measured against transformers serve: one table row per concurrency
// level with its medians and 90th percentiles, four charts with one bar per level, and the server named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPage } from '../../../client/src/extension/panels/pages';
import { bars, byTestId, fixtureRun, tableCells } from './panels-html';

const ctx = { cspSource: 'vscode-webview://abc', nonce: 'N0nce' };

test('the serving panel shows each level, its percentiles and the server', () => {
  const run = fixtureRun('serving');
  const html = runPage({ run, runFile: '/w/runs/s.json' }, ctx);
  const levels = run.serving!;
  const cells = tableCells(byTestId(html, 'serving-table'));
  assert.deepEqual(cells[0], [
    'Concurrency',
    'Requests',
    'Requests/s',
    'Output tokens/s',
    'TTFT (ms)',
    'TPOT (ms)',
    'ITL (ms)',
    'Latency (ms)',
    'Prompt tokens',
    'Output tokens',
  ]);
  assert.equal(cells.length, 1 + levels.length);
  levels.forEach((level, i) => {
    const row = cells[i + 1]!;
    assert.equal(row[0], String(level.concurrency));
    assert.equal(row[3], level.outputTokensPerSecond.toFixed(1));
    assert.match(row[4]!, new RegExp(`<br><span class="range">p90 ${level.timeToFirstTokenMs.p90.toFixed(0)}</span>$`));
    assert.equal(row[8], level.meanPromptTokens!.toFixed(0));
  });
  const throughput = bars(byTestId(html, 'chart-serving-throughput'));
  assert.deepEqual(
    throughput.map((b) => Number(b['data-value'])),
    levels.map((l) => l.outputTokensPerSecond),
  );
  assert.match(html, /served by uvicorn at http:\/\/127\.0\.0\.1:8765\/v1/);
  assert.match(
    html,
    /<caption>uvicorn at http:\/\/127\.0\.0\.1:8765\/v1 \(model tiny-llama; tokens as the server counted them\)<\/caption>/,
  );
});
