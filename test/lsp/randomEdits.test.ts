// A seeded random sequence of edits on config.json, quantize_config.json, a job file and a Python file, mixing
// ordinary typing with what breaks parsers: invalid JSON, huge numbers, 10,000 levels of nesting, a 10 MB
// document, an unclosed """ before 20,000 lines, a 100,000-term operator chain, NUL bytes. The real server
// (stdio) must stay alive, answer a request on a small document within the parse budget after every edit,
// publish at most the per-document cap of diagnostics, and publish the last version of every document.
// QS_RANDOM_EDITS_SEED replays another sequence; a failure names the seed and the edits that led to it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Position, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol/node';
import { MAX_DOCUMENT_FINDINGS, MAX_DOCUMENT_LENGTH, PYTHON_PARSE_BUDGET } from '../../server/src/service/parse/limits';
import { seededRandom as random } from '../../native/lib/calibration';
import { LspSession } from './lspSession';

const SEED = Number(process.env.QS_RANDOM_EDITS_SEED ?? 6);
const EDITS = Number(process.env.QS_RANDOM_EDITS_COUNT ?? 100);
/** A request waits at most for one validation in progress, which the parse budget bounds. */
const REQUEST_BUDGET_MS = PYTHON_PARSE_BUDGET.fileMs + PYTHON_PARSE_BUDGET.windowsMs;

const BASE: Record<string, string> = {
  'file:///fuzz/model/config.json': JSON.stringify(
    {
      architectures: ['LlamaForCausalLM'],
      hidden_size: 4096,
      num_hidden_layers: 32,
      quantization_config: { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true },
    },
    null,
    2,
  ),
  'file:///fuzz/gptq/quantize_config.json': JSON.stringify(
    { bits: 4, group_size: 128, damp_percent: 0.01, desc_act: false, sym: true },
    null,
    2,
  ),
  'file:///fuzz/job/run.quant.json': JSON.stringify(
    {
      model: './nowhere',
      quantization_config: { quant_method: 'awq', bits: 4, group_size: 128, version: 'gemm' },
      calibration: { dataset: 'wikitext2', nsamples: 16, seqlen: 128 },
      output: './out',
      options: { evaluate: { before: true } },
    },
    null,
    2,
  ),
  'file:///fuzz/py/train.py':
    'from transformers import GPTQConfig, BitsAndBytesConfig\nq = GPTQConfig(bits=4, group_size=128)\nb = BitsAndBytesConfig(load_in_4bit=True)\n',
};
const PROBE = 'file:///fuzz/probe/quantize_config.json';

const HUGE_NUMBERS = [
  '1e400',
  '-1e400',
  '9'.repeat(400),
  '1e-400',
  '-0',
  '4.00000000000000000000001',
  '0x10',
  'NaN',
  'Infinity',
  '18446744073709551617',
];
const JUNK = '{}[]",:\\ \n\t0123456789abcdefeE.-+\u0000';

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

/** One pathological whole document of the kind `uri` is. */
function pathological(rand: Rand, uri: string): { label: string; text: string } {
  const base = BASE[uri]!;
  if (uri.endsWith('.py')) {
    return pick(rand, [
      { label: 'unclosed """ before 20,000 lines', text: `${base}"""\n${'# c\n'.repeat(20_000)}` },
      { label: '100,000-term chain in a config call', text: `${base}c = GPTQConfig(bits=${Array(100_000).fill('1').join(' + ')})\n` },
      { label: '100,000-term chain', text: `x = ${Array(100_000).fill('a').join(' * ')}\n${base}` },
      { label: 'NUL bytes', text: base.replace(/ /g, () => (rand() < 0.3 ? '\u0000' : ' ')) },
      { label: 'deep parentheses', text: `${base}y = ${'('.repeat(10_000)}1${')'.repeat(10_000)}\n` },
    ]);
  }
  const withBits = (value: string): string => base.replace(/"bits": 4/, `"bits": ${value}`);
  return pick(rand, [
    { label: 'huge number', text: withBits(pick(rand, HUGE_NUMBERS)) },
    { label: '10,000 nested arrays', text: withBits(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) },
    { label: '10,000 nested objects', text: withBits(`${'{"a": '.repeat(10_000)}1${'}'.repeat(10_000)}`) },
    { label: '10,000 unclosed arrays', text: withBits('['.repeat(10_000)) },
    { label: '10 MB document', text: `${base.slice(0, -1)}, "pad": "${'x'.repeat(10 * 1024 * 1024)}"}` },
    { label: '4 MB array', text: `${base.slice(0, -1)}, "pad": [${Array(2_000_000).fill('1').join(',')}]}` },
    {
      label: 'an array just under the size cap',
      text: `${base.slice(0, -1)}, "pad": [${Array(Math.floor((MAX_DOCUMENT_LENGTH - base.length) / 2) - 10)
        .fill('1')
        .join(',')}]}`,
    },
    { label: 'truncated', text: base.slice(0, Math.floor(rand() * base.length)) },
    { label: 'NUL bytes', text: base.replace(/ /g, () => (rand() < 0.3 ? '\u0000' : ' ')) },
  ]);
}

function positionAt(text: string, offset: number): Position {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: offset - lineStart };
}

/** A random edit of `text`: a range replaced by junk, deleted, or the whole document replaced. */
function edit(rand: Rand, uri: string, text: string): { label: string; change: TextDocumentContentChangeEvent; text: string } {
  const roll = rand();
  if (roll < 0.3) {
    const whole = rand() < 0.3 ? { label: 'reset', text: BASE[uri]! } : pathological(rand, uri);
    return { label: whole.label, change: { text: whole.text }, text: whole.text };
  }
  const start = Math.floor(rand() * (text.length + 1));
  const end = roll < 0.5 ? Math.min(text.length, start + Math.floor(rand() * 40)) : start;
  const inserted = roll < 0.5 ? '' : Array.from({ length: 1 + Math.floor(rand() * 8) }, () => pick(rand, [...JUNK])).join('');
  const range = { start: positionAt(text, start), end: positionAt(text, end) };
  return {
    label: inserted ? `insert ${JSON.stringify(inserted)} at ${start}` : `delete ${start}..${end}`,
    change: { range, text: inserted },
    text: text.slice(0, start) + inserted + text.slice(end),
  };
}

describe(`random edits (seed ${SEED})`, () => {
  let session: LspSession;
  before(async () => {
    session = await LspSession.start();
  });
  after(() => session.kill());

  it('the server stays alive, answers within the parse budget, caps what it publishes and publishes every last version', async () => {
    const rand = random(SEED);
    const texts = new Map(Object.entries(BASE));
    const versions = new Map<string, number>();
    const history: string[] = [];
    const context = (): string => `seed ${SEED}, edits:\n${history.slice(-8).join('\n')}`;
    await session.open(PROBE, '{\n  "bits": 5,\n  "group_size": 128\n}\n', 'json');
    const probeSymbols = (await session.symbols(PROBE)).map((s) => s.name);
    assert.equal(probeSymbols.length, 1);
    for (const [uri, text] of texts) await session.open(uri, text);
    const waits: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const uri = pick(rand, [...texts.keys()]);
      const next = edit(rand, uri, texts.get(uri)!);
      texts.set(uri, next.text);
      history.push(`${i}: ${uri.split('/').pop()} ${next.label}`);
      versions.set(uri, await session.sendChange(uri, [next.change]));
      const started = performance.now();
      const symbols = await session.symbols(PROBE);
      waits.push(performance.now() - started);
      if (process.env.QS_RANDOM_EDITS_TRACE) console.log(`${history[i]}: ${Math.round(waits[i]!)} ms`);
      assert.deepEqual(
        symbols.map((s) => s.name),
        probeSymbols,
        context(),
      );
      assert.equal(session.child.exitCode, null, `the server exited; ${context()}`);
    }
    for (const [uri, version] of versions)
      await session.diagnostics(uri, version, 15_000).catch((e: Error) => assert.fail(`${e.message}; ${context()}`));
    for (const uri of texts.keys()) {
      for (const published of session.published(uri)) {
        assert.ok(
          published.diagnostics.length <= MAX_DOCUMENT_FINDINGS + 1,
          `${uri} v${published.version}: ${published.diagnostics.length} diagnostics; ${context()}`,
        );
      }
    }
    const worst = Math.max(...waits);
    const at = waits.indexOf(worst);
    assert.ok(worst < REQUEST_BUDGET_MS, `a request waited ${Math.round(worst)} ms after edit ${history[at]} (seed ${SEED})`);
  });
});
