// A Python file that misses the parse budget is read around its config calls only: the same sites, values and
// ranges as a full parse, in bounded time, for the inputs that make tree-sitter slow.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Parser } from '@vscode/tree-sitter-wasm';
import { PYTHON_PARSE_BUDGET } from '../../../server/src/service/parse/limits';
import { parsePythonDocument } from '../../../server/src/service/parse/python';
import { loadPythonParser } from '../../../server/src/service/parse/treeSitter';

const corpus = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'corpus');
const HEAD = 'from transformers import GPTQConfig\nq = GPTQConfig(bits=5)\n';
const NO_TIME = { ...PYTHON_PARSE_BUDGET, fileMs: 0 };

function timed<T>(work: () => T): [T, number] {
  const start = performance.now();
  const result = work();
  return [result, performance.now() - start];
}

describe('parsePythonDocument within a budget', () => {
  let parser: Parser;
  before(async () => {
    parser = await loadPythonParser();
  });

  it('reads the same config calls around each call as from the whole file', () => {
    for (const file of ['qlora-nf4/train.py', 'gptq-c4/quantize.py', 'inline-bnb-4bit/load.py']) {
      const text = `def f():\n    x = 1\n\n${readFileSync(join(corpus, file), 'utf8')}\nz = transformers.AwqConfig(bits=4, # note (\n  zero_point=")")\n`;
      const full = parsePythonDocument(text, parser);
      const windowed = parsePythonDocument(text, parser, NO_TIME);
      const shape = (doc: typeof full) =>
        doc.sites.map((s) => [
          s.method,
          s.range,
          s.anchorRange,
          s.insertAt,
          s.style,
          s.entries.map((e) => [e.key, e.value, e.keyRange, e.valueRange]),
        ]);
      assert.ok(full.sites.length >= 2, file);
      assert.deepEqual(shape(windowed), shape(full), file);
      assert.deepEqual(
        windowed.findings.map((f) => f.code),
        ['python/parse-budget'],
      );
    }
  });

  for (const [name, text] of [
    ['100,000 comment lines after an unclosed string', `${HEAD}"""\n${'# c\n'.repeat(100_000)}`],
    ['100,000 comment lines before the call', `${'# c\n'.repeat(100_000)}${HEAD}`],
    ['a 100,000-term binary-operator chain', `${HEAD}y = ${Array(100_000).fill('1').join('+')}\n`],
    ['200,000 NUL bytes', `${HEAD}${'\0'.repeat(200_000)}`],
  ]) {
    it(`reads ${name} within a second`, () => {
      const [doc, ms] = timed(() => parsePythonDocument(text, parser));
      assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
      assert.deepEqual(
        doc.sites.map((s) => s.entries.map((e) => [e.key, e.value])),
        [[['bits', 5]]],
      );
    });
  }

  it('reads the first arguments of a call longer than a window', () => {
    const text = `q = GPTQConfig(bits=5, ${'desc_act=True, '.repeat(10_000)})\n`;
    const [site] = parsePythonDocument(text, parser, { ...NO_TIME, windowLength: 1024 }).sites;
    assert.deepEqual(
      site.entries.slice(0, 2).map((e) => [e.key, e.value]),
      [
        ['bits', 5],
        ['desc_act', true],
      ],
    );
  });

  it('says which calls it could not read in time', () => {
    const calls = Array.from({ length: 50 }, (_, i) => `q${i} = GPTQConfig(bits=4)\n# c\n`).join('');
    const doc = parsePythonDocument(calls, parser, { fileMs: 0, windowsMs: 0, windowLength: 1024 });
    assert.deepEqual(doc.sites, []);
    assert.equal(doc.ours, true); // its notes are published
    assert.deepEqual(
      doc.findings.map((f) => [f.code, f.range.start]),
      [
        ['python/parse-budget', { line: 0, character: 0 }],
        ['python/parse-budget', { line: 0, character: 5 }],
      ],
    );
  });
});
