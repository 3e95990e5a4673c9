// The SVG bar charts: exact geometry (bar heights proportional to the values on a 0-based axis with nice ticks),
// labels, the accessible name and data table, and escaping of hostile names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barChart, CHART_BOX, niceTicks } from '../../../client/src/extension/panels/charts';
import { attributes, bars, tableCells, texts } from './panels-html';

test('nice ticks step by 1, 2 or 5 times a power of ten and reach the maximum', () => {
  assert.deepEqual(niceTicks(2.5), [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(niceTicks(2000), [0, 500, 1000, 1500, 2000]);
  assert.deepEqual(niceTicks(7.3), [0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(0.3), [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(niceTicks(31.4), [0, 10, 20, 30, 40]);
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(niceTicks(Number.NaN), [0, 1]);
});

const spec = {
  title: 'Per-token latency',
  unit: 'ms / token',
  categories: ['fp16', 'gptq 4-bit'],
  series: [
    { name: 'batch 1', values: [2.5, 1.25] },
    { name: 'batch 16', values: [0.5, null] },
  ],
};

test('bars sit on the axis with heights proportional to their values', () => {
  const svg = barChart(spec);
  // plot area: x 64…584 (520 wide), y 24…244 (220 high); 2 categories of 260, bars take 80%: 2 × 104
  assert.deepEqual(CHART_BOX, { width: 600, height: 300, left: 64, right: 16, top: 24, bottom: 56 });
  const rects = bars(svg).map((b) => ({ cls: b.class, x: b.x, y: b.y, width: b.width, height: b.height, value: b['data-value'] }));
  assert.deepEqual(rects, [
    { cls: 'bar series-0', x: '90', y: '24', width: '104', height: '220', value: '2.5' },
    { cls: 'bar series-1', x: '194', y: '200', width: '104', height: '44', value: '0.5' },
    { cls: 'bar series-0', x: '350', y: '134', width: '104', height: '110', value: '1.25' },
  ]);
  for (const r of rects) assert.equal(Number(r.height) / Number(r.value), 88);
  for (const r of rects) assert.equal(Number(r.y) + Number(r.height), 244);
});

test('ticks, value labels, category labels and a missing value are drawn as text', () => {
  const svg = barChart(spec);
  assert.deepEqual(texts(svg, 'tick'), ['0', '0.5', '1', '1.5', '2', '2.5']);
  const tickYs = [...svg.matchAll(/<text class="tick"[^>]*>/g)].map((m) => Number(attributes(m[0]).y));
  assert.deepEqual(tickYs, [244, 200, 156, 112, 68, 24]);
  assert.deepEqual(texts(svg, 'value'), ['2.5', '0.5', '1.25', 'n/a']);
  const missing = [...svg.matchAll(/<text class="value"[^>]*>n\/a<\/text>/g)].map((m) => attributes(m[0]));
  assert.deepEqual([missing[0].x, missing[0].y], ['506', '240']);
  assert.deepEqual(texts(svg, 'category'), ['fp16', 'gptq 4-bit']);
  assert.deepEqual(texts(svg, 'unit'), ['ms / token']);
});

test('the chart is an image with an accessible name, a legend and its data as a table', () => {
  const html = barChart({ ...spec, valueLabel: (v) => `${v.toFixed(2)} ms` });
  const svgTag = /<svg class="chart-svg"[^>]*>/.exec(html)?.[0] ?? '';
  assert.equal(attributes(svgTag).role, 'img');
  assert.equal(attributes(svgTag)['aria-label'], 'Per-token latency (ms / token) by batch 1, batch 16; the data table follows the chart');
  assert.deepEqual(
    [...html.matchAll(/<li>.*?<\/svg>(.*?)<\/li>/g)].map((m) => m[1]),
    ['batch 1', 'batch 16'],
  );
  assert.deepEqual(tableCells(html), [
    ['ms / token', 'batch 1', 'batch 16'],
    ['fp16', '2.50 ms', '0.50 ms'],
    ['gptq 4-bit', '1.25 ms', 'n/a'],
  ]);
  assert.match(html, /<th scope="col">batch 1<\/th>/);
  assert.match(html, /<th scope="row">fp16<\/th>/);
});

test('hostile names are escaped everywhere they appear', () => {
  const html = barChart({
    title: '<img src=x>',
    unit: '"u"',
    categories: ['<script>alert(1)</script>'],
    series: [{ name: '</svg><script>', values: [1] }],
  });
  assert.doesNotMatch(html, /<script|<img|<\/svg><script/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /aria-label="&lt;img src=x&gt; \(&quot;u&quot;\)/);
});

test('an all-zero or empty chart still has an axis from 0 to 1 and no bar taller than the plot', () => {
  const zero = barChart({ title: 't', unit: 'u', categories: ['a'], series: [{ name: 's', values: [0] }] });
  assert.deepEqual(texts(zero, 'tick'), ['0', '1']);
  assert.deepEqual(
    bars(zero).map((b) => [b.y, b.height]),
    [['244', '0']],
  );
  const empty = barChart({ title: 't', unit: 'u', categories: [], series: [] });
  assert.deepEqual(bars(empty), []);
});

test('a value label wider than its bar is left out of the drawing but kept in the tooltip and the table', () => {
  const categories = Array.from({ length: 8 }, (_, i) => `v${i}`);
  // 8 categories × 2 series: bars 26 units wide, room for 4 characters of label
  const html = barChart({
    title: 't',
    unit: 'u',
    categories,
    series: [
      { name: 'a', values: categories.map(() => 12.5) },
      { name: 'b', values: categories.map(() => 1) },
    ],
    valueLabel: (v) => (v > 10 ? `${v} (long)` : String(v)),
  });
  assert.deepEqual([...new Set(bars(html).map((b) => b.width))], ['26']);
  assert.deepEqual(
    texts(html, 'value'),
    categories.map(() => '1'),
  );
  assert.equal(bars(html).length, 16);
  assert.match(html, /<title>v0, a: 12\.5 \(long\) u<\/title>/);
  assert.deepEqual(tableCells(html)[1], ['v0', '12.5 (long)', '1']);
});
