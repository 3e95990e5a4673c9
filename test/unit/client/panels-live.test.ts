// What live panels are sent while a job runs (phase line, per-layer rows, token rate) and the checked
// panel state the serializer restores from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerCells, LiveLog, progressText, TokenRate } from '../../../client/src/extension/panels/live';
import { parsePanelState } from '../../../client/src/extension/panels/state';
import { metricLabel, metricsTable, metricValue } from '../../../client/src/extension/panels/metricsTable';
import { fixtureRun, tableCells } from './panels-html';

test('the phase line shows the step, its message and the time left', () => {
  assert.equal(
    progressText({ phase: 'perplexity before', current: 3, total: 8, etaSeconds: 4.2 }),
    'perplexity before 3/8 (about 5 s left)',
  );
  assert.equal(
    progressText({ phase: 'layer', current: 2, total: 4, message: 'model.layers.1: 0.30 s' }),
    'layer 2/4: model.layers.1: 0.30 s',
  );
});

test('a layer event becomes a table row from its structured detail, or from its message', () => {
  assert.deepEqual(
    layerCells({
      phase: 'layer',
      current: 2,
      total: 4,
      message: 'x',
      detail: { layer: 'model.layers.1', seconds: 0.3049, error: 0.0046543 },
    }),
    ['2/4', 'model.layers.1', '0.30', '4.654e-3'],
  );
  assert.deepEqual(layerCells({ phase: 'layer', current: 1, total: 4, message: 'model.layers.0: 0.30 s' }), [
    '1/4',
    'model.layers.0: 0.30 s',
    '—',
    '—',
  ]);
  assert.equal(layerCells({ phase: 'write', current: 1, total: 10 }), undefined);
});

test('the token rate counts from the first token and needs two tokens', () => {
  let now = 1000;
  const rate = new TokenRate(() => now);
  assert.equal(rate.text, '—');
  rate.add();
  assert.equal(rate.perSecond, undefined);
  for (let i = 0; i < 10; i++) {
    now += 50;
    rate.add();
  }
  assert.equal(rate.tokens, 11);
  assert.equal(rate.perSecond, 20);
  assert.equal(rate.text, '20.0 tokens/s');
});

test('a page that loads late gets the latest phase, every layer row, the text so far and the failure', () => {
  const log = new LiveLog();
  log.add({ type: 'progress', text: 'load 0/1', current: 0, total: 1 });
  log.add({ type: 'layer', cells: ['1/2', 'model.layers.0', '0.30', '1.000e-3'] });
  log.add({ type: 'progress', text: 'layer 1/2', current: 1, total: 2 });
  log.add({ type: 'token', text: ' the', count: '1', rate: '—' });
  log.add({ type: 'token', text: ' cat', count: '2', rate: '20.0 tokens/s' });
  log.add({ type: 'layer', cells: ['2/2', 'model.layers.1', '0.31', '2.000e-3'] });
  log.add({ type: 'fail', message: 'out of memory' });
  assert.deepEqual(log.replay(), [
    { type: 'layer', cells: ['1/2', 'model.layers.0', '0.30', '1.000e-3'] },
    { type: 'progress', text: 'layer 1/2', current: 1, total: 2 },
    { type: 'token', text: ' the cat', count: '2', rate: '20.0 tokens/s' },
    { type: 'layer', cells: ['2/2', 'model.layers.1', '0.31', '2.000e-3'] },
    { type: 'fail', message: 'out of memory' },
  ]);
});

test('a restored state is checked: unknown views, kinds and settings of the wrong type are dropped', () => {
  assert.deepEqual(parsePanelState({ view: 'run', runFile: '/r.json' }), { view: 'run', runFile: '/r.json' });
  assert.deepEqual(parsePanelState({ view: 'run', runFile: '/r.json', settings: { prompt: 'p', topK: '40', seed: 3, extra: 1 } }), {
    view: 'run',
    runFile: '/r.json',
    settings: { prompt: 'p', seed: 3 },
  });
  assert.deepEqual(parsePanelState({ view: 'live', kind: 'generate', title: 'm' }), { view: 'live', kind: 'generate', title: 'm' });
  assert.deepEqual(parsePanelState({ view: 'live', kind: 'quantize', title: 'm', failed: 'boom' }), {
    view: 'live',
    kind: 'quantize',
    title: 'm',
    failed: 'boom',
  });
  assert.deepEqual(parsePanelState({ view: 'compare', a: '/a', b: '/b' }), { view: 'compare', a: '/a', b: '/b' });
  for (const bad of [
    undefined,
    null,
    'run',
    [],
    { view: 'run' },
    { view: 'run', runFile: '' },
    { view: 'live', kind: 'train', title: 'm' },
    { view: 'compare', a: '/a' },
  ]) {
    assert.equal(parsePanelState(bad), undefined, JSON.stringify(bad));
  }
});

test('metric names and values read plainly', () => {
  assert.equal(metricLabel('perplexityBefore'), 'perplexity before');
  assert.equal(metricLabel('peakRssBytes'), 'peak rss bytes');
  assert.equal(metricValue(2048), '2048');
  assert.equal(metricValue(57.77812), '57.78');
  assert.equal(metricValue(0.004654), '0.004654');
  assert.equal(metricValue(0.0004654), '4.654e-4');
  assert.equal(metricValue(1234567.5), '1.235e+6');
});

test('a run panel lists its metrics in human units, not raw metric keys', () => {
  const cells = tableCells(metricsTable(fixtureRun('quantize')));
  assert.deepEqual(
    cells.find((r) => r[0] === 'Peak memory'),
    ['Peak memory', '50.0 MiB'],
  );
  assert.deepEqual(
    cells.find((r) => r[0] === 'Speed'),
    ['Speed', '120.5 tokens/s'],
  );
  assert.deepEqual(
    cells.find((r) => r[0] === 'Quantize time'),
    ['Quantize time', '3.46 s'],
  );
  assert.ok(!cells.some((r) => /bytes|seconds/.test(r[0])), JSON.stringify(cells));
});
