// Panels and the Runs view show when a run happened in the reader's time zone, never the raw UTC ISO string
// the run file stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparePage, runPage } from '../../../client/src/extension/panels/pages';
import { compareInput } from '../../../client/src/extension/panels/compareView';
import { runDetails } from '../../../client/src/jobs/runLabels';
import { byTestId, fixtureRun, tableCells } from './panels-html';

process.env.TZ = 'Asia/Kolkata'; // UTC+05:30 all year: a shown time that is still UTC would not match
const ctx = { cspSource: 'vscode-webview://abc', nonce: 'N0nce' };
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d/;

test('a run panel says when the run finished in local time, keeping the instant in a <time> element', () => {
  const run = fixtureRun('quantize'); // finished 2026-11-23T09:00:07.600Z
  const html = runPage({ run, runFile: '/w/q.json' }, ctx);
  const meta = /<p class="meta">Model[\s\S]*?<\/p>/.exec(html)?.[0] ?? '';
  assert.match(meta, /finished <time datetime="2026-11-23T09:00:07.600Z">2026-11-23 14:30<\/time> in 7\.6 s/);
  assert.doesNotMatch(meta.replace(/<[^>]+>/g, ''), ISO);
});

test("the compare panel and the runs' tooltips show local times", () => {
  const html = comparePage(compareInput({ run: fixtureRun('quantize'), file: '/q' }, { run: fixtureRun('perplexity'), file: '/p' }), ctx);
  assert.deepEqual(
    tableCells(byTestId(html, 'compare-runs')).find((r) => r[0] === 'Finished'),
    ['Finished', '2026-11-23 14:30', '2026-11-23 14:50'],
  );
  const started = runDetails(fixtureRun('quantize'), '/q').find((l) => l.startsWith('Started'));
  assert.equal(started, 'Started 2026-11-23 14:30, took 7.6 s');
});
