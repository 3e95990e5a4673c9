// Pathological documents get diagnosed within a time budget and never hold up the others: tree-sitter needs
// minutes for 100,000 comment lines after an unclosed """ (its time grows with the square of the run), and
// 20,000 repeated keys (a file just under the size cap) would otherwise publish 19,999 diagnostics in one message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LspSession } from './lspSession';

const HEAD = 'from transformers import GPTQConfig\nq = GPTQConfig(bits=5)\n';
/** 100,000 lines (400 KB, under the Python size cap). */
const UNCLOSED = `${HEAD}"""\n${'# c\n'.repeat(100_000)}`;
const HEALTHY = '{\n  "bits": 5,\n  "group_size": 128\n}\n';

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work;
  return [result, performance.now() - start];
}

describe('parse budget', () => {
  let session: LspSession;
  before(async () => {
    session = await LspSession.start();
  });
  after(() => session.kill());

  it('diagnoses 100,000 lines after an unclosed string within 2 s', async () => {
    const [diagnostics, ms] = await timed(session.open('file:///work/slow/train.py', UNCLOSED));
    assert.ok(ms < 2000, `took ${Math.round(ms)} ms`);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['python/parse-budget', 'gptq/bits'],
    );
  });

  it('keeps other documents diagnosed while a slow one is being edited', async () => {
    const uri = 'file:///work/storm/train.py';
    const otherUri = 'file:///work/other/quantize_config.json';
    await session.open(uri, UNCLOSED);
    // An edit every 50 ms for 2 s: a slow document is validated once its edits pause, not once per edit,
    // so the server answers the others meanwhile (validating each edit would keep it busy throughout).
    let version = 1;
    let other: Promise<[unknown[], number]> | undefined;
    const answers: number[] = [];
    for (let i = 0; i < 40; i++) {
      version = await session.sendChange(uri, [{ text: `${UNCLOSED}# edit ${i}\n` }]);
      if (i === 5) other = timed(session.open(otherUri, HEALTHY, 'json'));
      if (i >= 20 && i % 4 === 0) answers.push((await timed(session.symbols(otherUri)))[1]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [healthy, ms] = await other!;
    assert.ok(ms < 1500, `the other document waited ${Math.round(ms)} ms`);
    assert.deepEqual(
      (healthy as { code?: unknown }[]).map((d) => d.code),
      ['gptq/bits'],
    );
    assert.ok(Math.max(...answers) < 250, `requests waited ${answers.map(Math.round).join(', ')} ms`);
    const last = await session.diagnostics(uri, version, 5000); // the slow one still gets its latest version
    assert.deepEqual(
      last.map((d) => d.code),
      ['python/parse-budget', 'gptq/bits'],
    );
  });

  it('publishes at most the cap for 20,000 repeated keys', async () => {
    const text = `{${'"bits": 4, '.repeat(20_000)}"bits": 4}`;
    const [diagnostics, ms] = await timed(session.open('file:///work/dup/quantize_config.json', text, 'json'));
    assert.ok(ms < 3000, `took ${Math.round(ms)} ms`);
    assert.ok(diagnostics.length <= 51, `got ${diagnostics.length}`);
    const note = diagnostics.filter((d) => d.severity === 3).map((d) => d.message);
    assert.deepEqual(note, ['19950 more findings of common/duplicate-key in this config are not shown (at most 50 per rule).']);
    const distinct = `{${Array.from({ length: 10_000 }, (_, i) => `"k${i}": 1, "k${i}": 1`).join(', ')}}`;
    const many = await session.open('file:///work/dup2/quantize_config.json', distinct, 'json');
    assert.ok(many.length <= 501, `got ${many.length}`);
    assert.ok(many.some((d) => d.code === 'document/too-many-findings' || /more findings/.test(String(d.message))));
  });
});
