// Malformed input never crashes or stalls the server: broken JSON, a 10 MB file, 10,000 levels of nesting,
// binary garbage, Python that does not parse. Each gets diagnostics or a clear note, and the server
// still answers the next request.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LspSession } from './lspSession';
import { rangeOf } from './textRanges';

const fixtures = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'malformed');
const HEALTHY_URI = 'file:///work/ok/quantize_config.json';
const HEALTHY = '{\n  "bits": "8",\n  "group_size": 128\n}\n';

describe('malformed input', () => {
  let session: LspSession;
  before(async () => {
    session = await LspSession.start();
    await session.open(HEALTHY_URI, HEALTHY);
  });
  after(() => session.kill());

  /** The server is still alive and right: a symbols request on a healthy document answers. */
  async function stillAnswers(): Promise<void> {
    const symbols = await session.symbols(HEALTHY_URI);
    assert.deepEqual(
      symbols.map((s) => s.children?.map((c) => c.name)),
      [['bits', 'group_size']],
    );
  }

  it('reports broken JSON as syntax errors at the broken places', async () => {
    const text = readFileSync(join(fixtures, 'quantize_config.json'), 'utf8');
    const diagnostics = await session.open('file:///work/broken/quantize_config.json', text);
    const endOfFile = { line: 4, character: 0 };
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.severity, d.range, d.message]),
      [
        ['json/syntax', 1, rangeOf(text, ',', 2), 'Invalid JSON: a property name in double quotes is expected here.'],
        ['json/syntax', 1, { start: endOfFile, end: endOfFile }, 'Invalid JSON: a value is expected here.'],
      ],
    );
    await stillAnswers();
  });

  it('notes a 10 MB config once instead of validating it', async () => {
    const text = `{"quantization_config": {"quant_method": "gptq", "bits": "4"}, "padding": "${'x'.repeat(10 * 1024 * 1024)}"}`;
    const diagnostics = await session.open('file:///work/huge/config.json', text);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.severity, d.range]),
      [['document/too-large', 3, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }]],
    );
    assert.deepEqual(await session.completion('file:///work/huge/config.json', { line: 0, character: 30 }), []);
    // Python has its own cap; without config calls it is not ours at all.
    const script = `from transformers import GPTQConfig\nq = GPTQConfig(bits=5)\n${'x = 1\n'.repeat(100_000)}`;
    assert.deepEqual(
      (await session.open('file:///work/huge/train.py', script)).map((d) => d.code),
      ['document/too-large'],
    );
    assert.deepEqual(await session.open('file:///work/huge/other.py', 'x = 1\n'.repeat(1_000_000)), []);
    await stillAnswers();
  });

  it('refuses 10,000 levels of nesting with one error', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const diagnostics = await session.open(
      'file:///work/deep/config.json',
      `{"quantization_config": {"quant_method": "gptq", "meta": ${deep}}}`,
    );
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.severity]),
      [['json/too-deep', 1]],
    );
    const pythonDiagnostics = await session.open(
      'file:///work/deep/load.py',
      `from transformers import GPTQConfig\nq = GPTQConfig(bits=4, dataset=${deep})\n`,
    );
    assert.deepEqual(pythonDiagnostics, []); // too deep to be a literal: unknown, so not judged
    await stillAnswers();
  });

  it('survives binary garbage', async () => {
    const garbage = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1');
    const diagnostics = await session.open('file:///work/garbage/quant_config.json', garbage);
    assert.ok(diagnostics.length > 0 && diagnostics.length <= 21, `capped, got ${diagnostics.length}`);
    assert.ok(diagnostics.every((d) => d.code === 'json/syntax' && String(d.message).length < 200));
    assert.deepEqual(diagnostics[0].range.start, { line: 1, character: 0 }); // byte 13 (\r) ends line 0
    const many = (await session.open('file:///work/garbage/quantize_config.json', `{${' @,'.repeat(5000)}}`)).filter(
      (d) => d.code === 'json/syntax',
    );
    assert.equal(many.length, 21);
    assert.match(String(many[20].message), /^Invalid JSON: \d+ more syntax errors not shown/);
    await stillAnswers();
  });

  it('reads what it can of Python that does not parse', async () => {
    const text = readFileSync(join(fixtures, 'broken_call.py'), 'utf8');
    const diagnostics = await session.open('file:///work/broken/broken_call.py', text);
    assert.ok(diagnostics.every((d) => d.severity !== 1 || String(d.code).startsWith('gptq/') || String(d.code).startsWith('schema/')));
    assert.equal(await session.hover('file:///work/broken/broken_call.py', { line: 3, character: 15 }), null);
    await stillAnswers();
  });
});
