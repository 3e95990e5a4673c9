// The language server over stdio, driven with the real protocol client: diagnostics with exact ranges and
// codes, incremental changes, completion, hover, quick fixes applied and re-checked, symbols, Python sites.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after as afterAll, before, describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic, MarkupContent, TextEdit } from 'vscode-languageserver-protocol';
import { LspSession } from './lspSession';
import { after, rangeOf } from './textRanges';

const repo = join(__dirname, '..', '..', '..');
const gptqSchema = JSON.parse(readFileSync(join(repo, 'schemas', 'gptq.schema.json'), 'utf8')) as {
  properties: Record<string, { description: string }>;
};

const CONFIG_URI = 'file:///work/model/config.json';
const CONFIG = `{
  "architectures": ["LlamaForCausalLM"],
  "hidden_size": 4096,
  "quantization_config": {
    "quant_method": "gptq",
    "bits": "4",
    "grup_size": 128,
    "desc_act": false,
    "pack_dtype": "int23"
  }
}
`;

function codesAndRanges(diagnostics: Diagnostic[]): Array<{ code: unknown; severity: unknown; range: unknown }> {
  return diagnostics.map((d) => ({ code: d.code, severity: d.severity, range: d.range }));
}

function messageOf(diagnostic: Diagnostic): string {
  return typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
}

function apply(text: string, edits: TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create('file:///x', 'json', 1, text), edits);
}

describe('language server over stdio', () => {
  let session: LspSession;
  before(async () => {
    session = await LspSession.start();
  });
  afterAll(() => session.kill());

  it('announces its features on initialize', () => {
    const capabilities = session.initializeResult.capabilities;
    assert.equal(capabilities.textDocumentSync, 2); // incremental
    assert.deepEqual(capabilities.completionProvider?.triggerCharacters, ['"', '=']);
    assert.equal(capabilities.hoverProvider, true);
    assert.equal(capabilities.documentSymbolProvider, true);
    assert.deepEqual(capabilities.codeActionProvider, { codeActionKinds: ['quickfix'] });
  });

  it('publishes diagnostics with exact ranges and codes on open', async () => {
    const diagnostics = await session.open(CONFIG_URI, CONFIG);
    assert.deepEqual(codesAndRanges(diagnostics), [
      { code: 'schema/type', severity: 1, range: rangeOf(CONFIG, '"4"') },
      { code: 'schema/additionalProperties', severity: 2, range: rangeOf(CONFIG, '"grup_size"') },
      { code: 'schema/enum', severity: 1, range: rangeOf(CONFIG, '"int23"') },
    ]);
    assert.match(messageOf(diagnostics[0]), /"bits" must be a number, not a string: write 4 without quotes/);
    assert.match(messageOf(diagnostics[1]), /Did you mean "group_size"\?/);
    assert.match(messageOf(diagnostics[2]), /did you mean "int32"\?/);
    assert.ok(diagnostics.every((d) => d.source === 'quantstudio'));
  });

  it('re-checks after an incremental change', async () => {
    const diagnostics = await session.change(CONFIG_URI, [{ range: rangeOf(CONFIG, '"4"'), text: '4' }]);
    const changed = CONFIG.replace('"4"', '4');
    assert.deepEqual(codesAndRanges(diagnostics), [
      { code: 'schema/additionalProperties', severity: 2, range: rangeOf(changed, '"grup_size"') },
      { code: 'schema/enum', severity: 1, range: rangeOf(changed, '"int23"') },
    ]);
  });

  it('completes keys not yet present, and enum values', async () => {
    const uri = 'file:///work/new/config.json';
    const text =
      '{\n  "quantization_config": {\n    "quant_method": "gptq",\n    "bits": 4,\n    \n  },\n  "pack": {"pack_dtype": ""}\n}\n';
    await session.open(uri, text);
    const keys = await session.completion(uri, { line: 4, character: 4 });
    const labels = keys.map((item) => item.label);
    assert.ok(labels.includes('group_size') && labels.includes('desc_act') && labels.includes('damp_percent'), labels.join(','));
    assert.ok(!labels.includes('bits') && !labels.includes('quant_method'), 'keys already present are not offered');
    const groupSize = keys.find((item) => item.label === 'group_size');
    assert.deepEqual(groupSize?.textEdit, {
      range: { start: { line: 4, character: 4 }, end: { line: 4, character: 4 } },
      newText: '"group_size": ${1:128}',
    });

    const enumText = '{\n  "quantization_config": {\n    "quant_method": "gptq",\n    "bits": 4,\n    "pack_dtype": ""\n  }\n}\n';
    await session.change(uri, [{ text: enumText }]);
    const values = await session.completion(uri, after(enumText, '"pack_dtype": "'));
    assert.deepEqual(values.map((item) => item.label).sort(), ['"int16"', '"int32"', '"int64"', '"int8"']);
  });

  it('hovers with the schema docs of a key', async () => {
    const hover = await session.hover(CONFIG_URI, after(CONFIG, '"desc_'));
    const contents = hover?.contents as MarkupContent;
    assert.equal(contents.kind, 'markdown');
    assert.ok(contents.value.startsWith('**desc_act** · `boolean` · default `false`'), contents.value);
    assert.ok(contents.value.includes(gptqSchema.properties.desc_act.description), contents.value);
    assert.deepEqual(hover?.range, rangeOf(CONFIG, '"desc_act"'));
  });

  it('offers a quick fix whose edit removes the diagnostic', async () => {
    const uri = 'file:///work/fix/config.json';
    const diagnostics = await session.open(uri, CONFIG);
    const unknownKey = diagnostics.find((d) => d.code === 'schema/additionalProperties');
    assert.ok(unknownKey);
    const actions = await session.codeActions(uri, unknownKey.range, [unknownKey]);
    assert.deepEqual(
      actions.map((a) => [a.title, a.kind, a.isPreferred]),
      [['Rename to "group_size"', 'quickfix', true]],
    );
    const fixed = apply(CONFIG, actions[0].edit?.changes?.[uri] ?? []);
    assert.equal(fixed, CONFIG.replace('"grup_size"', '"group_size"'));
    const after = await session.change(uri, [{ text: fixed }]);
    assert.deepEqual(
      after.map((d) => d.code),
      ['schema/type', 'schema/enum'],
    );
  });

  it('lists the config and its keys as document symbols', async () => {
    const symbols = await session.symbols(CONFIG_URI);
    assert.equal(symbols.length, 1);
    assert.equal(symbols[0].name, 'quantization_config');
    assert.equal(symbols[0].detail, 'gptq');
    assert.deepEqual(
      symbols[0].children?.map((c) => c.name),
      ['quant_method', 'bits', 'grup_size', 'desc_act', 'pack_dtype'],
    );
  });

  it('checks Python config calls, skipping non-literal arguments', async () => {
    const uri = 'file:///work/load.py';
    const text = [
      'import torch',
      'from transformers import AutoModelForCausalLM, BitsAndBytesConfig',
      '',
      'model = AutoModelForCausalLM.from_pretrained(',
      "    'meta-llama/Llama-3.2-1B',",
      '    quantization_config=BitsAndBytesConfig(',
      '        load_in_4bit=True,',
      '        bnb_4bit_compute_dtype=torch.bfloat16,',
      "        llm_int8_threshold='6',",
      '    ),',
      ')',
      '',
    ].join('\n');
    const diagnostics = await session.open(uri, text);
    assert.deepEqual(codesAndRanges(diagnostics), [{ code: 'schema/type', severity: 1, range: rangeOf(text, "'6'") }]);
    const [action] = await session.codeActions(uri, diagnostics[0].range, diagnostics);
    assert.equal(apply(text, action.edit?.changes?.[uri] ?? []), text.replace("'6'", '6'));

    const keys = await session.completion(uri, after(text, "llm_int8_threshold='6',\n"));
    const labels = keys.map((item) => item.label);
    assert.ok(labels.includes('bnb_4bit_quant_type') && labels.includes('bnb_4bit_use_double_quant'), labels.join(','));
    assert.ok(!labels.includes('load_in_4bit') && !labels.includes('quant_method') && !labels.includes('_load_in_4bit'));
    assert.equal(
      keys.find((item) => item.label === 'bnb_4bit_use_double_quant')?.textEdit?.newText,
      'bnb_4bit_use_double_quant=${1|False,True|}',
    );

    const symbols = await session.symbols(uri);
    assert.deepEqual(
      symbols.map((s) => [s.name, s.detail, s.children?.map((c) => c.name)]),
      [['BitsAndBytesConfig', 'bitsandbytes', ['load_in_4bit', 'bnb_4bit_compute_dtype', 'llm_int8_threshold']]],
    );
  });

  it('completes booleans in Python syntax after `key=`', async () => {
    const uri = 'file:///work/typing.py';
    const text = 'from transformers import GPTQConfig\nq = GPTQConfig(bits=4, desc_act=)\n';
    await session.open(uri, text);
    const values = await session.completion(uri, after(text, 'desc_act='));
    assert.deepEqual(
      values.map((item) => item.label),
      ['True', 'False'],
    );
  });

  it('notes config.json methods it does not validate, never as an error', async () => {
    const uri = 'file:///work/fp8/config.json';
    const text = '{\n  "quantization_config": {"quant_method": "fp8", "weight_block_size": [128, 128]}\n}\n';
    const diagnostics = await session.open(uri, text);
    assert.deepEqual(codesAndRanges(diagnostics), [{ code: 'config/unvalidated-method', severity: 3, range: rangeOf(text, '"fp8"') }]);
  });

  it('leaves a config.json without quantization_config alone', async () => {
    assert.deepEqual(await session.open('file:///work/plain/config.json', '{"architectures": ["LlamaForCausalLM"], "bits": "x"}'), []);
  });

  it('shuts down and exits cleanly', async () => {
    const other = await LspSession.start();
    assert.equal(await other.stop(), 0);
  });
});

describe('language server over IPC', () => {
  it('answers as it does over stdio', async () => {
    const session = await LspSession.start({ transport: 'ipc' });
    try {
      const diagnostics = await session.open(CONFIG_URI, CONFIG);
      assert.deepEqual(
        diagnostics.map((d) => d.code),
        ['schema/type', 'schema/additionalProperties', 'schema/enum'],
      );
      assert.equal(await session.stop(), 0);
    } finally {
      session.kill();
    }
  });
});

describe('bundled language server (dist/server.js, as the extension ships it)', () => {
  it('finds its schemas and the tree-sitter wasm files', async (t) => {
    const bundled = join(repo, 'dist', 'server.js');
    if (!existsSync(bundled)) {
      if (process.env.CI) assert.fail('dist/server.js is missing: run `npm run build`');
      t.skip('dist/server.js not built; `npm run build` makes it');
      return;
    }
    const session = await LspSession.start({ serverPath: bundled });
    try {
      assert.deepEqual(
        (await session.open(CONFIG_URI, CONFIG)).map((d) => d.code),
        ['schema/type', 'schema/additionalProperties', 'schema/enum'],
      );
      const python = await session.open('file:///work/bundled.py', "from transformers import GPTQConfig\nq = GPTQConfig(bits='4')\n");
      assert.deepEqual(
        python.map((d) => d.code),
        ['schema/type'],
      );
      assert.equal(await session.stop(), 0);
    } finally {
      session.kill();
    }
  });
});

describe('server settings', () => {
  it('validates a burst of changes once, for the last version, after the debounce delay', async () => {
    const session = await LspSession.start({ initializationOptions: { quantstudio: { validation: { debounceMs: 150 } } } });
    try {
      const uri = 'file:///work/burst/quantize_config.json';
      await session.open(uri, '{"bits": 4}');
      await session.sendChange(uri, [{ text: '{"bits": "4"}' }]);
      await session.sendChange(uri, [{ text: '{"bits": "8"}' }]);
      const last = await session.sendChange(uri, [{ text: '{"bits": "3"}' }]);
      const diagnostics = await session.diagnostics(uri, last);
      assert.deepEqual(
        diagnostics.map((d) => d.code),
        ['schema/type'],
      );
      assert.deepEqual(
        session.published(uri).map((p) => p.version),
        [1, last],
      );
    } finally {
      session.kill();
    }
  });

  it('clears diagnostics when validation is switched off, and re-checks when it is back on', async () => {
    const session = await LspSession.start();
    try {
      const uri = 'file:///work/toggle/quantize_config.json';
      assert.equal((await session.open(uri, '{"bits": "4"}')).length, 1);
      const cleared = session.nextDiagnostics(uri);
      await session.configure({ quantstudio: { validation: { enable: false } } });
      assert.deepEqual(await cleared, []);
      const back = session.nextDiagnostics(uri);
      await session.configure({ quantstudio: { validation: { enable: true } } });
      assert.deepEqual(
        (await back).map((d) => d.code),
        ['schema/type'],
      );
    } finally {
      session.kill();
    }
  });
});
