// Python files → one ConfigSite per config call, literal values read, non-literal values left unknown.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Parser } from '@vscode/tree-sitter-wasm';
import { parsePythonDocument } from '../../../server/src/service/parse/python';
import { loadPythonParser } from '../../../server/src/service/parse/treeSitter';
import { rangeOf } from '../../lsp/textRanges';

describe('parsePythonDocument', () => {
  let parser: Parser;
  before(async () => {
    parser = await loadPythonParser();
  });

  it('finds plain, qualified and nested config calls', () => {
    const text = [
      'import transformers',
      'from transformers import AutoModelForCausalLM, AwqConfig, BitsAndBytesConfig',
      'a = transformers.GPTQConfig(bits=4)',
      'b = AwqConfig(bits=4)',
      'm = AutoModelForCausalLM.from_pretrained("x", quantization_config=BitsAndBytesConfig(load_in_8bit=True))',
      'c = SomethingElse(bits=4)',
    ].join('\n');
    const doc = parsePythonDocument(text, parser);
    assert.equal(doc.ours, true);
    assert.deepEqual(
      doc.sites.map((s) => s.method),
      ['gptq', 'awq', 'bitsandbytes'],
    );
    assert.deepEqual(doc.sites[0].anchorRange, rangeOf(text, 'GPTQConfig'));
    assert.deepEqual(doc.sites[0].range, rangeOf(text, 'transformers.GPTQConfig(bits=4)'));
    assert.deepEqual(doc.sites[2].range, rangeOf(text, 'BitsAndBytesConfig(load_in_8bit=True)', 0));
  });

  it('reads literal keyword values with exact ranges', () => {
    const text =
      "q = GPTQConfig(bits=4, damp_percent=-0.01, group_size=-1, desc_act=False, tokenizer=None, dataset=['a', \"b\"], modules=('x',), meta={'k': 1_000}, name='a' 'b', esc='\\n', h=0x10)";
    const [site] = parsePythonDocument(text, parser).sites;
    assert.deepEqual(
      site.entries.map((e) => [e.key, e.value]),
      [
        ['bits', 4],
        ['damp_percent', -0.01],
        ['group_size', -1],
        ['desc_act', false],
        ['tokenizer', null],
        ['dataset', ['a', 'b']],
        ['modules', ['x']],
        ['meta', { k: 1000 }],
        ['name', 'ab'],
        ['esc', '\n'],
        ['h', 16],
      ],
    );
    const bits = site.entries[0];
    assert.deepEqual(bits.keyRange, rangeOf(text, 'bits'));
    assert.deepEqual(bits.valueRange, rangeOf(text, '4'));
    assert.deepEqual(bits.range, rangeOf(text, 'bits=4'));
    assert.deepEqual(site.entries[1].valueRange, rangeOf(text, '-0.01'));
    assert.equal(site.incomplete, false);
    assert.equal(site.style.quote, "'");
  });

  it('leaves non-literal values unknown, never guessed', () => {
    const text =
      'q = BitsAndBytesConfig(load_in_4bit=flag, bnb_4bit_compute_dtype=torch.bfloat16, a=f"{x}", b=b"raw", c=[1, n], d=get(), e=-x, f=1j)';
    const [site] = parsePythonDocument(text, parser).sites;
    assert.deepEqual(
      site.entries.map((e) => [e.key, e.value, e.valueText]),
      [
        ['load_in_4bit', undefined, 'flag'],
        ['bnb_4bit_compute_dtype', undefined, 'torch.bfloat16'],
        ['a', undefined, 'f"{x}"'],
        ['b', undefined, 'b"raw"'],
        ['c', undefined, '[1, n]'],
        ['d', undefined, 'get()'],
        ['e', undefined, '-x'],
        ['f', undefined, '1j'],
      ],
    );
  });

  it('counts positions in UTF-16 code units after non-ASCII text', () => {
    const text = "q = GPTQConfig(tokenizer='ü😀', bits=5)";
    const [site] = parsePythonDocument(text, parser).sites;
    assert.equal(site.entries[0].value, 'ü😀');
    assert.deepEqual(site.entries[1].valueRange, { start: { line: 0, character: 37 }, end: { line: 0, character: 38 } });
    assert.equal(text.slice(37, 38), '5');
  });

  it('marks calls with positional or ** arguments as incomplete', () => {
    const doc = parsePythonDocument('a = GPTQConfig(4, dataset="c4")\nb = AwqConfig(**kwargs)\n', parser);
    assert.deepEqual(
      doc.sites.map((s) => [s.incomplete, s.entries.map((e) => e.key)]),
      [
        [true, ['dataset']],
        [true, []],
      ],
    );
  });

  it('knows where to insert a new argument and how the call is laid out', () => {
    const text = 'q = GPTQConfig(\n    bits=4,\n    dataset="c4",\n)\n';
    const [site] = parsePythonDocument(text, parser).sites;
    assert.deepEqual(site.insertAt, rangeOf(text, 'dataset="c4"').end);
    assert.deepEqual(site.style, { indent: '    ', syntax: 'python', quote: '"' });
    assert.deepEqual(parsePythonDocument('q = GPTQConfig()', parser).sites[0].insertAt, { line: 0, character: 15 });
  });

  it('locates values nested in lists and dicts for error ranges', () => {
    const text = "q = GPTQConfig(dataset=['a', 3], meta={'quantizer': 1})";
    const doc = parsePythonDocument(text, parser);
    const [site] = doc.sites;
    assert.deepEqual(doc.rangeOf(site, ['dataset', 1], 'value'), rangeOf(text, '3'));
    assert.deepEqual(doc.rangeOf(site, ['meta', 'quantizer'], 'key'), rangeOf(text, "'quantizer'"));
  });

  it('warns that a call with a syntax error is only partly checked', () => {
    const text = 'q = GPTQConfig(bits=4, desc_act=)\n';
    const doc = parsePythonDocument(text, parser);
    assert.deepEqual(
      doc.sites[0].entries.map((e) => [e.key, e.value]),
      [['bits', 4]],
    );
    assert.deepEqual(
      doc.findings.map((f) => [f.code, f.severity, f.range]),
      [['python/syntax', 'warning', rangeOf(text, 'GPTQConfig(bits=4, desc_act=)')]],
    );
  });

  it('is not ours without config calls', () => {
    assert.equal(parsePythonDocument('print("hello")\n', parser).ours, false);
  });
});
