// Abstract fixes → text edits in the file's own syntax (JSON or Python), applied and compared as text.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Parser } from '@vscode/tree-sitter-wasm';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { fixTitle, fixToEdits, formatLiteral } from '../../../server/src/service/fixes';
import { parseJsonDocument } from '../../../server/src/service/parse/json';
import { parsePythonDocument } from '../../../server/src/service/parse/python';
import { loadPythonParser } from '../../../server/src/service/parse/treeSitter';
import type { ParsedDocument } from '../../../server/src/service/parse/document';
import type { Fix } from '../../../server/src/service/rules/rule';

function applyFix(doc: ParsedDocument, fix: Fix): string {
  const edits = fixToEdits(doc.sites[0], fix, doc.lines);
  return TextDocument.applyEdits(TextDocument.create('file:///x', 'x', 1, doc.lines.text), edits);
}

describe('fixes in JSON', () => {
  const json = (text: string): ParsedDocument => parseJsonDocument(text, 'autogptq-quantize-config');
  const multiLine = '{\n  "bits": "4",\n  "use_exllama": false,\n  "desc_act": true\n}\n';

  it('sets values in JSON syntax', () => {
    assert.equal(applyFix(json(multiLine), { kind: 'setValue', key: 'bits', value: 4 }), multiLine.replace('"4"', '4'));
    assert.equal(applyFix(json(multiLine), { kind: 'setValue', key: 'desc_act', value: null }), multiLine.replace('true', 'null'));
    assert.equal(applyFix(json('{"a": 1}'), { kind: 'setValue', key: 'a', value: ['x', true] }), '{"a": ["x",true]}');
  });

  it('renames a key', () => {
    assert.equal(
      applyFix(json(multiLine), { kind: 'renameKey', key: 'use_exllama', newKey: 'backend' }),
      multiLine.replace('"use_exllama"', '"backend"'),
    );
  });

  it('removes the first, a middle and the last key with their commas', () => {
    assert.equal(applyFix(json(multiLine), { kind: 'removeKey', key: 'bits' }), '{\n  "use_exllama": false,\n  "desc_act": true\n}\n');
    assert.equal(applyFix(json(multiLine), { kind: 'removeKey', key: 'use_exllama' }), '{\n  "bits": "4",\n  "desc_act": true\n}\n');
    assert.equal(applyFix(json(multiLine), { kind: 'removeKey', key: 'desc_act' }), '{\n  "bits": "4",\n  "use_exllama": false\n}\n');
    assert.equal(applyFix(json('{"a": 1, "b": 2}'), { kind: 'removeKey', key: 'b' }), '{"a": 1}');
    assert.equal(applyFix(json('{"a": 1}'), { kind: 'removeKey', key: 'a' }), '{}');
  });

  it('adds a key on its own line, on the same line, or into an empty object', () => {
    assert.equal(
      applyFix(json(multiLine), { kind: 'addKey', key: 'sym', value: true }),
      '{\n  "bits": "4",\n  "use_exllama": false,\n  "desc_act": true,\n  "sym": true\n}\n',
    );
    assert.equal(applyFix(json('{"a": 1}'), { kind: 'addKey', key: 'b', value: 'x' }), '{"a": 1, "b": "x"}');
    assert.equal(applyFix(json('{}'), { kind: 'addKey', key: 'bits', value: 4 }), '{"bits": 4}');
  });

  it('turns setValue on a missing key into an insertion', () => {
    assert.equal(applyFix(json('{"a": 1}'), { kind: 'setValue', key: 'b', value: false }), '{"a": 1, "b": false}');
  });
});

describe('fixes in Python', () => {
  let parser: Parser;
  before(async () => {
    parser = await loadPythonParser();
  });
  const py = (text: string): ParsedDocument => parsePythonDocument(text, parser);

  it('writes True/False/None and strings in the quotes the file uses', () => {
    assert.equal(
      applyFix(py("GPTQConfig(bits='4', desc_act=1)"), { kind: 'setValue', key: 'desc_act', value: true }),
      "GPTQConfig(bits='4', desc_act=True)",
    );
    assert.equal(
      applyFix(py("GPTQConfig(bits='4', dataset='x')"), { kind: 'setValue', key: 'dataset', value: "it's" }),
      "GPTQConfig(bits='4', dataset='it\\'s')",
    );
    assert.equal(
      applyFix(py('GPTQConfig(bits=4, dataset="x")'), { kind: 'setValue', key: 'dataset', value: 'c4' }),
      'GPTQConfig(bits=4, dataset="c4")',
    );
    assert.equal(
      applyFix(py('GPTQConfig(bits=4, tokenizer="t")'), { kind: 'setValue', key: 'tokenizer', value: null }),
      'GPTQConfig(bits=4, tokenizer=None)',
    );
  });

  it('renames keyword arguments without quotes', () => {
    assert.equal(
      applyFix(py('GPTQConfig(bits=4, grup_size=128)'), { kind: 'renameKey', key: 'grup_size', newKey: 'group_size' }),
      'GPTQConfig(bits=4, group_size=128)',
    );
  });

  it('removes arguments with their commas, in one line and across lines', () => {
    assert.equal(applyFix(py('GPTQConfig(bits=4, use_exllama=False)'), { kind: 'removeKey', key: 'use_exllama' }), 'GPTQConfig(bits=4)');
    assert.equal(applyFix(py('GPTQConfig(use_exllama=False, bits=4)'), { kind: 'removeKey', key: 'use_exllama' }), 'GPTQConfig(bits=4)');
    const multi = 'q = GPTQConfig(\n    bits=4,\n    use_exllama=False,\n)\n';
    assert.equal(applyFix(py(multi), { kind: 'removeKey', key: 'use_exllama' }), 'q = GPTQConfig(\n    bits=4,\n)\n');
  });

  it('adds key=value after the last argument, on a new line when the call is laid out that way', () => {
    assert.equal(applyFix(py('GPTQConfig(bits=4)'), { kind: 'addKey', key: 'sym', value: false }), 'GPTQConfig(bits=4, sym=False)');
    assert.equal(applyFix(py('GPTQConfig()'), { kind: 'addKey', key: 'bits', value: 4 }), 'GPTQConfig(bits=4)');
    assert.equal(applyFix(py('GPTQConfig(4)'), { kind: 'addKey', key: 'dataset', value: 'c4' }), 'GPTQConfig(4, dataset="c4")');
    const multi = 'q = GPTQConfig(\n    bits=4,\n)\n';
    assert.equal(
      applyFix(py(multi), { kind: 'addKey', key: 'dataset', value: ['a', 'b'] }),
      'q = GPTQConfig(\n    bits=4,\n    dataset=["a", "b"],\n)\n',
    );
  });

  it('formats nested literals and titles fixes in the file syntax', () => {
    const site = { style: { indent: '', syntax: 'python' as const, quote: "'" as const } };
    assert.equal(formatLiteral({ a: [1, null, false] }, site), "{'a': [1, None, False]}");
    assert.equal(fixTitle({ kind: 'addKey', key: 'sym', value: true }, site), 'Add sym=True');
    assert.equal(fixTitle({ kind: 'setValue', key: 'bits', value: 4, title: 'Use 4 bits' }, site), 'Use 4 bits');
  });
});
