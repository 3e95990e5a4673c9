// JSON config files → ConfigSites with exact ranges, the method, and json.load strictness findings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonDocument } from '../../../server/src/service/parse/json';
import { rangeOf } from '../../lsp/textRanges';

describe('parseJsonDocument', () => {
  it('reads the quantization_config of a config.json with exact key, value and entry ranges', () => {
    const text =
      '{\n  "hidden_size": 256,\n  "quantization_config": {\n    "quant_method": "gptq",\n    "bits": 4,\n    "dataset": ["a", "b"]\n  }\n}\n';
    const doc = parseJsonDocument(text, 'model-config');
    assert.equal(doc.ours, true);
    assert.deepEqual(doc.findings, []);
    assert.equal(doc.sites.length, 1);
    const [site] = doc.sites;
    assert.equal(site.method, 'gptq');
    assert.deepEqual(
      site.entries.map((e) => [e.key, e.value, e.valueText]),
      [
        ['quant_method', 'gptq', '"gptq"'],
        ['bits', 4, '4'],
        ['dataset', ['a', 'b'], '["a", "b"]'],
      ],
    );
    assert.deepEqual(site.entries[1].keyRange, rangeOf(text, '"bits"'));
    assert.deepEqual(site.entries[1].valueRange, rangeOf(text, '4'));
    assert.deepEqual(site.entries[1].range, rangeOf(text, '"bits": 4'));
    assert.deepEqual(site.anchorRange, rangeOf(text, '{', 1));
    assert.deepEqual(site.insertAt, rangeOf(text, '["a", "b"]').end);
    assert.deepEqual(site.style, { indent: '    ', syntax: 'json', quote: '"' });
    assert.deepEqual(doc.sitePaths, [['quantization_config']]);
    assert.deepEqual(doc.rangeOf(undefined, ['quantization_config', 'dataset', 1], 'value'), rangeOf(text, '"b"'));
    assert.deepEqual(doc.rangeOf(undefined, ['quantization_config', 'bits'], 'key'), rangeOf(text, '"bits"'));
  });

  it('counts positions in UTF-16 code units across CRLF line ends', () => {
    const text = '{\r\n  "model_name_or_path": "ü/😀",\r\n  "bits": 4\r\n}';
    const [site] = parseJsonDocument(text, 'autogptq-quantize-config').sites;
    assert.deepEqual(site.entries[1].valueRange, { start: { line: 2, character: 10 }, end: { line: 2, character: 11 } });
    assert.deepEqual(site.entries[0].valueRange, { start: { line: 1, character: 24 }, end: { line: 1, character: 30 } }); // "ü/😀": the emoji is two code units
  });

  it('takes the whole file as the site of quantize_config.json (gptq) and quant_config.json (awq)', () => {
    assert.equal(parseJsonDocument('{"bits": 4}', 'autogptq-quantize-config').sites[0].method, 'gptq');
    assert.equal(parseJsonDocument('{"w_bit": 4}', 'autoawq-quant-config').sites[0].method, 'awq');
    assert.deepEqual(parseJsonDocument('{"bits": 4}', 'autogptq-quantize-config').sitePaths, [[]]);
  });

  it('decides the method from quant_method, or from load_in_* as transformers does', () => {
    const method = (config: string) => parseJsonDocument(`{"quantization_config": ${config}}`, 'model-config').sites[0].method;
    assert.equal(method('{"quant_method": "awq"}'), 'awq');
    assert.deepEqual(method('{"quant_method": "fp8"}'), { other: 'fp8' });
    assert.equal(method('{"load_in_4bit": true}'), 'bitsandbytes');
    assert.deepEqual(method('{"bits": 4}'), { other: '' });
  });

  it('is not ours without a quantization_config (or with null)', () => {
    assert.equal(parseJsonDocument('{"model_type": "llama"}', 'model-config').ours, false);
    assert.equal(parseJsonDocument('{"quantization_config": null}', 'model-config').ours, false);
  });

  it('tolerates comments and trailing commas but reports them where json.load fails', () => {
    const text = '{\n  // 4-bit\n  "bits": 4,\n}\n';
    const doc = parseJsonDocument(text, 'autogptq-quantize-config');
    assert.deepEqual(
      doc.sites[0].entries.map((e) => [e.key, e.value]),
      [['bits', 4]],
    );
    assert.deepEqual(
      doc.findings.map((f) => [f.code, f.severity, f.range]),
      [
        ['json/comment', 'error', rangeOf(text, '// 4-bit')],
        ['json/trailing-comma', 'error', rangeOf(text, ',')],
      ],
    );
  });

  it('keeps a missing value as undefined, with the key still located', () => {
    const text = '{"bits": }';
    const [entry] = parseJsonDocument(text, 'autogptq-quantize-config').sites[0].entries;
    assert.equal(entry.key, 'bits');
    assert.equal(entry.value, undefined);
    assert.deepEqual(entry.keyRange, rangeOf(text, '"bits"'));
  });

  it('does not descend into 10,000 levels of nesting', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const doc = parseJsonDocument(`{"meta": ${deep}}`, 'autogptq-quantize-config');
    assert.deepEqual(doc.sites, []);
    assert.deepEqual(
      doc.findings.map((f) => f.code),
      ['json/too-deep'],
    );
    assert.equal(parseJsonDocument(`{"other": ${deep}}`, 'model-config').ours, false);
  });
});
