// The pure parts of "Quantize Model…": progress events → notification steps, the result panel's rows, and
// the webview page's Content-Security-Policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBridge } from '../../../client/src/extension/jobs/progressBridge';
import { humanBytes } from '../../../native/model';
import { quantizeSummary } from '../../../client/src/extension/panels/quantizeSummary';
import { buildPage, escapeHtml } from '../../../client/src/extension/panels/page';
import type { RunResult } from '../../../client/src/jobs/runner';

/** The events of a quantize job with evaluation, in the order the worker sends them. */
function quantizeEvents(layers: number): Array<{ phase: string; current: number; total: number; message?: string }> {
  const ppl = (label: string) => Array.from({ length: 9 }, (_, i) => ({ phase: `perplexity ${label}`, current: i, total: 8 }));
  return [
    ...ppl('before'),
    { phase: 'tokenize', current: 0, total: 1 },
    { phase: 'load', current: 0, total: 1 },
    { phase: 'calibrate', current: 0, total: 1 },
    ...Array.from({ length: layers }, (_, i) => ({
      phase: 'layer',
      current: i + 1,
      total: layers,
      message: `model.layers.${i}: 0.30 s, output error 3.000e-3`,
    })),
    { phase: 'write', current: 1, total: 10 },
    { phase: 'write', current: 10, total: 10 },
    { phase: 'done', current: 1, total: 1 },
    ...ppl('after'),
  ];
}

test('the progress bar only moves forward and reaches 100% at the end of a full quantize job', () => {
  const bridge = new ProgressBridge();
  const steps = quantizeEvents(4).map((e) => bridge.step(e));
  assert.ok(steps.every((s) => s.increment >= 0));
  assert.ok(Math.abs(steps.reduce((sum, s) => sum + s.increment, 0) - 100) < 1e-9);
  const layer2 = steps.find((s) => s.short === 'layer 2/4');
  assert.equal(layer2?.message, 'layer 2/4: model.layers.1: 0.30 s, output error 3.000e-3');
});

test('a phase event the bar does not know moves nothing but is still shown', () => {
  const bridge = new ProgressBridge();
  assert.deepEqual(bridge.step({ phase: 'generate', current: 0, total: 1 }), { message: 'generate', increment: 0, short: 'generate' });
});

const result: RunResult = {
  schemaVersion: 1,
  id: 'r1',
  kind: 'quantize',
  startedAt: '2026-11-23T12:00:00.000Z',
  finishedAt: '2026-11-23T12:00:07.600Z',
  durationSeconds: 7.6,
  model: { ref: 'examples/tiny-llama', path: '/m/tiny-llama' },
  config: { quant_method: 'gptq', bits: 4, group_size: 128 },
  environment: { engineVersion: '0.1.0', threads: 2, cpu: 'cpu', avx2: true, os: 'linux', node: '20' },
  metrics: {
    quantizeSeconds: 3.46,
    layers: 4,
    meanLayerError: 4.654e-3,
    perplexityBefore: 50,
    perplexityAfter: 51,
    perplexityDelta: 1,
    evaluationTokens: 2048,
  },
  output: { folder: '/w/out/q', bytes: 6_144_000 },
};

test('the result rows format the run and carry stable ids', () => {
  const rows = Object.fromEntries(quantizeSummary(result).map((r) => [r.id, r]));
  assert.equal(rows['output-folder'].value, '/w/out/q');
  assert.equal(rows['output-size'].value, humanBytes(6_144_000, 2));
  assert.equal(humanBytes(6_144_000, 2), '5.86 MiB');
  assert.equal(rows['method'].value, 'gptq, 4-bit, group 128');
  assert.equal(rows['quantize-seconds'].value, '3.5 s');
  assert.equal(rows['ppl-after'].value, '51.0000');
  assert.equal(rows['ppl-delta'].value, '+1.0000 (+2.00%)');
  assert.equal(rows['ppl-delta'].tone, 'worse');
});

test('a run without evaluation says so instead of showing numbers', () => {
  const rows = Object.fromEntries(quantizeSummary({ ...result, metrics: { quantizeSeconds: 1, layers: 4 } }).map((r) => [r.id, r.value]));
  assert.equal(rows['ppl-before'], 'not measured');
  assert.equal(rows['ppl-delta'], 'not measured');
});

test('the webview page allows no script and only its own nonce-tagged style', () => {
  const html = buildPage({ title: 'A <b>', body: '<p>x</p>', cspSource: 'vscode-webview://abc', nonce: 'N0nce' });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  assert.equal(
    csp,
    "default-src 'none'; style-src vscode-webview://abc 'nonce-N0nce'; img-src vscode-webview://abc; font-src vscode-webview://abc",
  );
  assert.match(html, /<style nonce="N0nce">/);
  assert.doesNotMatch(html, /<script|https?:\/\//);
  assert.match(html, /<title>A &lt;b&gt;<\/title>/);
  assert.equal(escapeHtml(`"'&`), '&quot;&#39;&amp;');
});
