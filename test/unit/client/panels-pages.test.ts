// Whole panel pages: the Content-Security-Policy and nonce, no remote URL, the title and test markers of each
// kind, escaping of hostile names, the persisted state, and the pages for missing files and interrupted jobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interruptedLivePage, livePage, missingRunPage, runPage } from '../../../client/src/extension/panels/pages';
import type { RunResult } from '../../../client/src/jobs/runner';
import { attributes, byTestId, fixtureRun, tableCells, unescape } from './panels-html';

const ctx = { cspSource: 'vscode-webview://abc', nonce: 'N0nce' };
const KINDS: Array<RunResult['kind']> = ['quantize', 'benchmark', 'generate', 'perplexity', 'serving'];

function state(html: string): unknown {
  return JSON.parse(unescape(/<body data-state="([^"]*)">/.exec(html)?.[1] ?? 'null'));
}

test('every page allows only its own nonce-tagged style and script, and loads nothing remote', () => {
  for (const kind of KINDS) {
    const html = runPage({ run: fixtureRun(kind), runFile: `/w/.quantstudio/runs/x-${kind}.json` }, ctx);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    assert.equal(
      csp,
      "default-src 'none'; style-src vscode-webview://abc 'nonce-N0nce'; img-src vscode-webview://abc; font-src vscode-webview://abc; script-src 'nonce-N0nce'",
    );
    assert.deepEqual(html.match(/<script[^>]*>/g), ['<script nonce="N0nce">']);
    assert.deepEqual(html.match(/<style[^>]*>/g), ['<style nonce="N0nce">']);
    // a serving run names its server's URL as text (escaped, never a link or a source)
    const endpoint = fixtureRun(kind).endpoint?.url;
    assert.doesNotMatch(endpoint === undefined ? html : html.split(endpoint).join(''), /https?:\/\//, kind);
    assert.doesNotMatch(html, / style="| on\w+="/, kind);
  }
});

test('each kind has its title and markers, and persists the run file it shows', () => {
  const markers: Record<RunResult['kind'], string[]> = {
    quantize: ['quantize-summary', 'action-benchmark', 'action-generate', 'sample-text'],
    benchmark: ['benchmark-table', 'chart-latency', 'chart-throughput', 'chart-memory', 'chart-perplexity'],
    generate: ['generate-prompt', 'generate-text', 'tokens-per-second', 'generate-settings'],
    perplexity: ['perplexity-summary'],
    serving: ['serving-table', 'chart-serving-throughput', 'chart-serving-ttft', 'chart-serving-tpot', 'chart-serving-requests'],
  };
  const titles = {
    quantize: 'Quantize — tiny-llama',
    benchmark: 'Benchmark — tiny-llama',
    generate: 'Generate — tiny-llama-gptq',
    perplexity: 'Perplexity — tiny-llama',
    serving: 'Serving Benchmark — tiny-llama',
  };
  for (const kind of KINDS) {
    const runFile = `/w/runs/${kind}.json`;
    const html = runPage({ run: fixtureRun(kind), runFile }, ctx);
    assert.equal(/<title>(.*?)<\/title>/.exec(html)?.[1], `QuantStudio: ${titles[kind]}`);
    for (const id of ['run-panel', 'run-file', 'metrics-table', ...markers[kind]]) assert.ok(byTestId(html, id), `${kind}: ${id}`);
    assert.equal(attributes(/<main [^>]*>/.exec(html)?.[0] ?? '')['data-kind'], kind);
    assert.deepEqual(state(html), { view: 'run', runFile });
  }
});

test('the quantize panel keeps its summary cell ids and offers Benchmark and Generate only with an output folder', () => {
  const run = fixtureRun('quantize');
  const html = runPage({ run, runFile: '/w/runs/q.json' }, ctx);
  const cell = (id: string): string => unescape(new RegExp(`<td id="${id}"[^>]*>(.*?)</td>`).exec(html)?.[1] ?? '');
  assert.equal(cell('ppl-after'), '59.1000');
  assert.equal(cell('ppl-delta'), '+1.3220 (+2.29%)');
  assert.equal(cell('output-folder'), '/work/out/tiny-llama-gptq');
  assert.equal(cell('method'), 'gptq, 4-bit, group 128');
  assert.equal(unescape(/<code id="run-file"[^>]*>(.*?)<\/code>/.exec(html)?.[1] ?? ''), '/w/runs/q.json');
  assert.deepEqual(
    [...html.matchAll(/<button type="button" data-action="(\w+)"[^>]*>(\w+)<\/button>/g)].map((m) => [m[1], m[2]]),
    [
      ['benchmark', 'Benchmark'],
      ['generate', 'Generate'],
    ],
  );
  const { output: _output, ...withoutOutput } = run;
  assert.doesNotMatch(runPage({ run: withoutOutput, runFile: 'not saved' }, ctx), /<button/);
});

test('a measured quantize run (tiny-llama, GPTQ 4-bit) shows its own figures', () => {
  const run = fixtureRun('measured-quantize');
  const html = runPage({ run, runFile: '/w/runs/m.json' }, ctx);
  const cell = (id: string): string => unescape(new RegExp(`<td id="${id}"[^>]*>(.*?)</td>`).exec(html)?.[1] ?? '');
  assert.equal(cell('quantize-seconds'), `${run.metrics.quantizeSeconds?.toFixed(1)} s`);
  assert.equal(cell('mean-layer-error'), run.metrics.meanLayerError?.toExponential(3));
  assert.equal(cell('ppl-after'), 'not measured'); // the CLI run did not evaluate
  assert.equal(cell('layers'), String(run.metrics.layers));
  assert.equal(cell('output-folder'), run.output?.folder);
  assert.equal(/<title>(.*?)<\/title>/.exec(html)?.[1], 'QuantStudio: Quantize — tiny-llama');
  assert.equal((html.match(/<button /g) ?? []).length, 2);
});

test('the generate panel shows the prompt, the text, tokens/s and the settings it was given', () => {
  const run = fixtureRun('generate');
  const settings = { prompt: 'Once <upon>', maxTokens: 32, temperature: 0.7, topK: 40, seed: 7 };
  const html = runPage({ run, runFile: '/w/runs/g.json', settings }, ctx);
  assert.equal(unescape(/<pre data-testid="generate-prompt">(.*?)<\/pre>/s.exec(html)?.[1] ?? ''), 'Once <upon>');
  assert.equal(
    unescape(/<pre id="generate-text"[^>]*>(.*?)<\/pre>/s.exec(html)?.[1] ?? ''),
    ' the river & the <b>bridge</b> were built in 1890.',
  );
  assert.doesNotMatch(html, /<b>bridge/);
  assert.equal(/data-testid="tokens-per-second">(.*?)</.exec(html)?.[1], '95.3 tokens/s');
  assert.deepEqual(tableCells(byTestId(html, 'generate-settings')), [
    ['Max new tokens', '32'],
    ['Temperature', '0.7'],
    ['Top-k', '40'],
    ['Top-p', 'engine default'],
    ['Seed', '7'],
    ['Prompt tokens', '5'],
    ['Generated tokens', '32'],
    ['Prefill', '410.2 tokens/s'],
    ['Load time', '0.05 s'],
  ]);
  assert.deepEqual(state(html), { view: 'run', runFile: '/w/runs/g.json', settings });
  assert.match(runPage({ run, runFile: '/w/runs/g.json' }, ctx), /The prompt is not recorded in the run file\./);
});

test('the perplexity panel shows the figure and how it was measured', () => {
  const html = runPage({ run: fixtureRun('perplexity'), runFile: '/w/runs/p.json' }, ctx);
  assert.deepEqual(tableCells(byTestId(html, 'perplexity-summary')), [
    ['Perplexity', '57.7781'],
    ['Tokens evaluated', '2048'],
    ['Window (tokens)', '256'],
    ['Windows', '8'],
    ['Evaluation speed', '1500.4 tokens/s'],
    ['Load time', '0.02 s'],
  ]);
});

test('a hostile model name and run file are escaped in the title, header and state', () => {
  const run = { ...fixtureRun('benchmark'), model: { ref: 'models/<img src=x onerror=alert(1)>' } };
  const html = runPage({ run, runFile: '/w/"><script>x</script>.json' }, ctx);
  assert.deepEqual(html.match(/<script[^>]*>/g), ['<script nonce="N0nce">']);
  assert.doesNotMatch(html, /<img/);
  assert.equal(/<title>(.*?)<\/title>/.exec(html)?.[1], 'QuantStudio: Benchmark — &lt;img src=x onerror=alert(1)&gt;');
  assert.equal(/<h1>(.*?)<\/h1>/.exec(html)?.[1], 'Benchmark — &lt;img src=x onerror=alert(1)&gt;');
  assert.deepEqual(state(html), { view: 'run', runFile: '/w/"><script>x</script>.json' });
});

test('a run file that is gone gets a page that says so and keeps the file in its state', () => {
  const html = missingRunPage('/w/runs/gone.json', 'The run file /w/runs/gone.json no longer exists: it was moved or deleted.', ctx);
  assert.equal(/<p role="alert">(.*?)<\/p>/.exec(html)?.[1], 'The run file /w/runs/gone.json no longer exists: it was moved or deleted.');
  assert.ok(byTestId(html, 'run-missing'));
  assert.deepEqual(state(html), { view: 'run', runFile: '/w/runs/gone.json' });
});

test('live pages have the elements their script fills, and a reload says the job stopped', () => {
  const quantize = livePage({ kind: 'quantize', title: 'tiny-llama' }, ctx);
  assert.equal(/<title>(.*?)<\/title>/.exec(quantize)?.[1], 'QuantStudio: Quantize — tiny-llama');
  assert.deepEqual(tableCells(byTestId(quantize, 'layer-table')), [['Layer', 'Name', 'Time (s)', 'Reconstruction error']]);
  for (const id of ['live-phase', 'live-progress', 'live-error']) assert.ok(byTestId(quantize, id));
  assert.match(quantize, /<tbody id="layer-rows"><\/tbody>/);
  assert.deepEqual(state(quantize), { view: 'live', kind: 'quantize', title: 'tiny-llama' });

  const generate = livePage({ kind: 'generate', title: 'm', settings: { prompt: 'Hi', maxTokens: 8 } }, ctx);
  assert.match(generate, /<pre id="generate-text" data-testid="generate-text"><\/pre>/);
  assert.match(generate, /<pre data-testid="generate-prompt">Hi<\/pre>/);
  assert.doesNotMatch(generate, /layer-table/);

  const stopped = interruptedLivePage({ kind: 'quantize', title: 'tiny-llama' }, ctx);
  assert.match(
    stopped,
    /<p role="alert">The window was reloaded while this job ran, which stopped it; no result was saved\. Run it again\.<\/p>/,
  );
  assert.ok(byTestId(stopped, 'live-interrupted'));
  const failed = interruptedLivePage({ kind: 'generate', title: 'm', failed: 'the model folder <x> has no config.json' }, ctx);
  assert.match(failed, /<p role="alert">This job failed: the model folder &lt;x&gt; has no config\.json<\/p>/);
  assert.deepEqual(state(failed), { view: 'live', kind: 'generate', title: 'm', failed: 'the model folder <x> has no config.json' });
});
