#!/usr/bin/env node
// Latency of the language server over the real protocol (stdio): didChange → publishDiagnostics (debounce 0)
// and completion request → response, p50/p99, on
//  - a realistic 300-line config.json (200 runs each; a no-op hover outside the config is the protocol
//    round-trip baseline of this machine),
//  - every file of the held-in corpus (test/fixtures/corpus: configs, job files and Python as users write them),
//  - a 10,000-line config.json, and the corpus again while that file stays open.
// Targets: diagnostics p99 < 5 ms, completion p99 < 10 ms. Writes bench-results/lsp-latency.json.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { LspSession } = require(join(root, 'out', 'test', 'lsp', 'lspSession.js'));
const { bigConfig } = await import('./_lsp-config.mjs');

const ITERATIONS = 200;
const WARMUP = 30;
const TARGET_LINES = 300;
const LARGE_LINES = 10_000;
/** Runs per corpus file (52 files: about 1,000 samples in all). */
const CORPUS_RUNS = 20;

function positionOf(text, snippet) {
  const before = text.slice(0, text.indexOf(snippet)).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, max: sorted[sorted.length - 1] };
}

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

/** The held-in corpus: one document per folder of test/fixtures/corpus; `tag` keeps each pass's URIs apart
 *  (a URI's diagnostics are matched by version). */
function corpus(tag) {
  const dir = join(root, 'test', 'fixtures', 'corpus');
  return readdirSync(dir).flatMap((folder) =>
    readdirSync(join(dir, folder)).map((file) => ({
      uri: `file:///bench/${tag}/${folder}/${file}`,
      text: readFileSync(join(dir, folder, file), 'utf8'),
    })),
  );
}

/** Where a key completion is asked in a document: where its first `bits` setting starts. */
function completionPoint(text) {
  const at = text.search(/["']?bits["']?\s*[:=]/);
  if (at < 0) return undefined;
  const before = text.slice(0, at).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/** didChange → publishDiagnostics and completion on one open document; a change adds or removes a trailing
 *  space on the last line, which re-validates the whole document without changing its findings. */
async function measureDocument(session, { uri, text }, runs, out) {
  const lines = text.split('\n');
  const end = { line: lines.length - 1, character: lines[lines.length - 1].length };
  for (let i = 0; i < runs; i++) {
    const change =
      i % 2 === 0
        ? { range: { start: end, end }, text: ' ' }
        : { range: { start: end, end: { ...end, character: end.character + 1 } }, text: '' };
    const start = process.hrtime.bigint();
    await session.change(uri, [change]);
    out.diagnostics.push(ms(start));
  }
  const point = completionPoint(text);
  if (point === undefined) return;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const items = await session.completion(uri, point);
    out.completion.push(ms(start));
    if (items.length === 0) out.withoutItems?.add(uri); // e.g. a quant_method the server does not validate
  }
}

/** The corpus measured file by file, pooled; the files stay open, as tabs do. */
async function measureCorpus(session, documents) {
  const out = { diagnostics: [], completion: [], withoutItems: new Set() };
  for (const document of documents) {
    await session.open(document.uri, document.text);
    await measureDocument(session, document, 4, { diagnostics: [], completion: [] }); // warm-up
    await measureDocument(session, document, CORPUS_RUNS, out);
  }
  return {
    diagnostics: stats(out.diagnostics),
    completion: stats(out.completion),
    files: documents.length,
    samples: out.diagnostics.length,
    filesWithoutCompletionItems: [...out.withoutItems],
  };
}

async function measureLarge(session) {
  const text = bigConfig(LARGE_LINES);
  const uri = 'file:///bench/large/config.json';
  await session.open(uri, text);
  const out = { diagnostics: [], completion: [] };
  await measureDocument(session, { uri, text }, 10, { diagnostics: [], completion: [] });
  await measureDocument(session, { uri, text }, 100, out);
  return { lines: text.split('\n').length - 1, diagnostics: stats(out.diagnostics), completion: stats(out.completion) };
}

async function main() {
  const loadStart = loadavg()[0];
  const text = bigConfig(TARGET_LINES);
  const lines = text.split('\n').length - 1;
  const uri = 'file:///bench/model/config.json';
  const session = await LspSession.start();
  try {
    const initial = await session.open(uri, text);
    if (initial.length !== 0) throw new Error(`the bench config should be clean, got ${JSON.stringify(initial)}`);

    // didChange → publishDiagnostics: flip bits between 4 and 8 (both valid; every change re-validates).
    const bitsValue = positionOf(text, '"bits": 4');
    const valueRange = {
      start: { line: bitsValue.line, character: bitsValue.character + 8 },
      end: { line: bitsValue.line, character: bitsValue.character + 9 },
    };
    const diagnostics = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      const start = process.hrtime.bigint();
      const result = await session.change(uri, [{ range: valueRange, text: i % 2 === 0 ? '8' : '4' }]);
      const elapsed = ms(start);
      if (result.length !== 0) throw new Error(`unexpected diagnostics: ${JSON.stringify(result)}`);
      if (i >= WARMUP) diagnostics.push(elapsed);
    }

    // completion: keys at the start of a new property in quantization_config.
    const keyPosition = { line: positionOf(text, '"quant_method"').line, character: 6 };
    const completion = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      const start = process.hrtime.bigint();
      const items = await session.completion(uri, { ...keyPosition, character: 6 - 2 });
      const elapsed = ms(start);
      if (!items.some((item) => item.label === 'use_exllama')) throw new Error('completion did not offer the expected keys');
      if (i >= WARMUP) completion.push(elapsed);
    }

    // Baseline: a request that does no work (hover on a model key outside quantization_config).
    const outside = positionOf(text, '"vocab_size"');
    const baseline = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      const start = process.hrtime.bigint();
      await session.hover(uri, { line: outside.line, character: outside.character + 2 });
      if (i >= WARMUP) baseline.push(ms(start));
    }

    const d = stats(diagnostics);
    const c = stats(completion);
    const b = stats(baseline);
    const held = await measureCorpus(session, corpus('corpus'));
    const large = await measureLarge(session);
    // the corpus again, now with the 10,000-line file open beside it
    const heldBesideLarge = await measureCorpus(session, corpus('corpus-beside-large'));
    const details = {
      name: 'lsp-latency',
      documentLines: lines,
      iterations: ITERATIONS,
      warmup: WARMUP,
      // Load average before/after: on a shared machine, other work shows up in the p99.
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        node: process.version,
        loadAverage1mAtEnd: loadavg()[0],
        loadAverage1mAtStart: loadStart,
      },
      diagnosticsMs: d,
      completionMs: c,
      roundTripBaselineMs: b,
      corpus: held,
      large,
      corpusWithLargeOpen: heldBesideLarge,
      targets: { diagnosticsP99Ms: 5, completionP99Ms: 10 },
    };
    mkdirSync(join(root, 'bench-results'), { recursive: true });
    writeFileSync(join(root, 'bench-results', 'lsp-latency.json'), JSON.stringify(details, null, 2) + '\n');
    console.error(
      `lsp-latency: ${lines}-line config.json, ${ITERATIONS} runs each; corpus ${held.files} files × ${CORPUS_RUNS}; ${large.lines}-line config.json`,
    );
    const p99 = (label, s, target) => ({ metric: `${label} p99`, value: s.p99, unit: 'ms', target: `< ${target}`, pass: s.p99 < target });
    const p50 = (label, s) => ({ metric: `${label} p50`, value: s.p50, unit: 'ms' });
    const results = [
      { metric: 'diagnostics p50', value: d.p50, unit: 'ms' },
      { metric: 'diagnostics p99', value: d.p99, unit: 'ms', target: '< 5', pass: d.p99 < 5 },
      { metric: 'completion p50', value: c.p50, unit: 'ms' },
      { metric: 'completion p99', value: c.p99, unit: 'ms', target: '< 10', pass: c.p99 < 10 },
      { metric: 'round-trip baseline p50', value: b.p50, unit: 'ms' },
      { metric: 'diagnostics p50 / baseline p50', value: d.p50 / b.p50, unit: 'x' },
      p50('corpus diagnostics', held.diagnostics),
      p99('corpus diagnostics', held.diagnostics, 5),
      p50('corpus completion', held.completion),
      p99('corpus completion', held.completion, 10),
      p50(`${large.lines}-line file diagnostics`, large.diagnostics),
      p99(`${large.lines}-line file diagnostics`, large.diagnostics, 5),
      p99(`${large.lines}-line file completion`, large.completion, 10),
      p99('corpus diagnostics, large file open', heldBesideLarge.diagnostics, 5),
      p99('corpus completion, large file open', heldBesideLarge.completion, 10),
      { metric: 'load average (1 min) at start', value: loadStart, unit: '' },
    ];
    console.log(JSON.stringify({ name: 'lsp-latency', results }));
  } finally {
    await session.stop().catch(() => session.kill());
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
