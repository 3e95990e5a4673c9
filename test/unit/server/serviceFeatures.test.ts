// Completion, hover and symbols through the service API, in the cases the protocol tests do not reach.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLanguageService } from '../../../server/src/service';
import { after, rangeOf } from '../../lsp/textRanges';
import type { MarkupContent } from 'vscode-languageserver-types';
import { TextDocument } from 'vscode-languageserver-textdocument';

const service = createLanguageService();

describe('completion', () => {
  it('offers keyword names inside a Python call that is not closed yet', async () => {
    const text = 'from transformers import AwqConfig\nq = AwqConfig(bits=4, ';
    const items = await service.complete({ uri: 'file:///w/a.py', text }, after(text, 'bits=4, '));
    const labels = items.map((i) => i.label);
    assert.ok(labels.includes('group_size') && labels.includes('zero_point'), labels.join(','));
    assert.ok(!labels.includes('bits'));
    assert.equal(items.find((i) => i.label === 'zero_point')?.textEdit?.newText, 'zero_point=${1|True,False|}');
  });

  it('replaces the partly typed keyword', async () => {
    const text = 'q = GPTQConfig(bits=4, gro)';
    const items = await service.complete({ uri: 'file:///w/a.py', text }, after(text, 'gro'));
    assert.deepEqual(items.find((i) => i.label === 'group_size')?.textEdit, {
      range: rangeOf(text, 'gro'),
      newText: 'group_size=${1:128}',
    });
  });

  it('completes string values in the quotes already typed', async () => {
    const text = "q = GPTQConfig(bits=4, pack_dtype='in')";
    const items = await service.complete({ uri: 'file:///w/a.py', text }, after(text, "'in"));
    assert.deepEqual(items.map((i) => i.textEdit?.newText).sort(), ["'int16'", "'int32'", "'int64'", "'int8'"]);
    assert.deepEqual(items[0].textEdit && 'range' in items[0].textEdit ? items[0].textEdit.range : undefined, rangeOf(text, "'in'"));
  });

  it('completes JSON booleans and adds a comma when another key follows', async () => {
    const text = '{\n  "bits": 4,\n  \n  "sym": \n}';
    const keys = await service.complete({ uri: 'file:///w/quantize_config.json', text }, { line: 2, character: 2 });
    assert.equal(keys.find((i) => i.label === 'desc_act')?.textEdit?.newText, '"desc_act": ${1|false,true|},');
    const values = await service.complete({ uri: 'file:///w/quantize_config.json', text }, after(text, '"sym": '));
    assert.deepEqual(
      values.map((i) => i.label),
      ['true', 'false'],
    );
  });

  it('offers nothing in files that are not ours', async () => {
    assert.deepEqual(await service.complete({ uri: 'file:///w/tokenizer.json', text: '{}' }, { line: 0, character: 1 }), []);
  });
});

describe('hover', () => {
  it('documents Python keywords and the config class', async () => {
    const text = "q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type='nf4')";
    const key = await service.hover({ uri: 'file:///w/a.py', text }, after(text, 'bnb_4bit_quant'));
    assert.ok((key?.contents as MarkupContent).value.startsWith("**bnb_4bit_quant_type** · `string` · default `'fp4'`"));
    assert.deepEqual(key?.range, rangeOf(text, 'bnb_4bit_quant_type'));
    const cls = await service.hover({ uri: 'file:///w/a.py', text }, after(text, 'BitsAnd'));
    assert.match((cls?.contents as MarkupContent).value, /^\*\*.+\*\*\n\n/);
    assert.deepEqual(cls?.range, rangeOf(text, 'BitsAndBytesConfig'));
  });

  it('documents the property of a value inside an array', async () => {
    const text = '{"model": "m", "quantization_config": {"quant_method": "gptq", "bits": 4}, "calibration": {"dataset": ["a", "b"]}}';
    const hover = await service.hover({ uri: 'file:///w/x.quant.json', text }, after(text, '["a", "'));
    assert.ok((hover?.contents as MarkupContent).value.startsWith('**dataset**'));
  });

  it("shows a job's python backend recipe on its backend and format: the library's classes, every default filled in", async () => {
    const job = (config: object, extra: object) => JSON.stringify({ model: 'm', quantization_config: config, ...extra });
    const gptq = job(
      { quant_method: 'gptq', bits: 4, group_size: 128, modules_to_not_convert: ['model.layers.0.mlp.down_proj'] },
      { backend: 'python' },
    );
    const onBackend = (await service.hover({ uri: 'file:///w/x.quant.json', text: gptq }, after(gptq, '"back')))?.contents as MarkupContent;
    const [docs, recipe] = onBackend.value.split('\n\n---\n\n');
    assert.ok(docs!.startsWith('**backend**'), docs);
    assert.equal(
      recipe,
      [
        '**This job runs on the python backend:** GPTQModel 7.7 quantizes with',
        '```python',
        'from gptqmodel import QuantizeConfig',
        '',
        'QuantizeConfig(',
        '    bits=4,',
        '    group_size=128,',
        '    sym=True,',
        '    desc_act=False,',
        '    static_groups=False,',
        '    damp_percent=0.1,',
        '    damp_auto_increment=0.0025,',
        '    true_sequential=True,',
        '    format="gptq",',
        '    dynamic={"-:^model\\\\.layers\\\\.0\\\\.mlp\\\\.down_proj$": {}},',
        ')',
        '```',
        'then GPTQModel.load(model, quantize_config) → quantize(calibration windows) → save(out).',
      ].join('\n'),
    );

    // GPTAQ, the mse search and GPTQModel's format v2 go to QuantizeConfig as the job sets them
    const low = job(
      { quant_method: 'gptq', bits: 3, sym: false, mse: 2.4, gptaq: { alpha: 0.5 }, checkpoint_format: 'gptq_v2' },
      { backend: 'python' },
    );
    const lowRecipe = ((await service.hover({ uri: 'file:///w/x.quant.json', text: low }, after(low, '"back')))?.contents as MarkupContent)
      .value;
    for (const line of ['    format="gptq_v2",', '    mse=2.4,', '    gptaq={"alpha": 0.5},'])
      assert.ok(lowRecipe.split('\n').includes(line), `${line} in\n${lowRecipe}`);

    const awq = job(
      { quant_method: 'awq', bits: 4, group_size: 64, zero_point: true },
      { backend: 'python', format: 'compressed-tensors' },
    );
    const onFormat = ((await service.hover({ uri: 'file:///w/x.quant.json', text: awq }, after(awq, '"form')))?.contents as MarkupContent)
      .value;
    assert.ok(
      onFormat.includes(
        'llm-compressor 0.14 quantizes with\n```python\nfrom llmcompressor.modifiers.transform.awq import AWQModifier\n' +
          'from llmcompressor.modifiers.quantization import QuantizationModifier\n\nAWQModifier()\nQuantizationModifier(\n',
      ),
      onFormat,
    );
    const weights = '{"num_bits": 4, "type": "int", "symmetric": False, "strategy": "group", "group_size": 64}';
    assert.ok(
      onFormat.includes(`config_groups={"group_0": {"targets": ["Linear"], "weights": ${weights}}},\n    ignore=["lm_head"],`),
      onFormat,
    );

    const nf4 = '{"model": "m", "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true}}';
    const engine = (
      (await service.hover({ uri: 'file:///w/x.quant.json', text: nf4 }, after(nf4, '"quant_method": "bits')))?.contents as MarkupContent
    ).value;
    assert.doesNotMatch(engine, /python backend/, 'only on backend and format');
  });
});

describe('code actions', () => {
  it('deletes comments (whole line when alone on it) and trailing commas, then the file is clean', async () => {
    const uri = 'file:///w/quant_config.json';
    const text = '{\n  // AutoAWQ defaults\n  "zero_point": true, /* GEMM */\n  "w_bit": 4,\n}\n';
    const diagnostics = await service.diagnose({ uri, text });
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['json/comment', 'json/comment', 'json/trailing-comma'],
    );
    let fixed = text;
    // Apply from the end of the file backwards so earlier ranges stay valid.
    for (const diagnostic of [...diagnostics].reverse()) {
      const [action] = await service.codeActions({ uri, text }, diagnostic.range, [diagnostic]);
      const [edit] = action.edit?.changes?.[uri] ?? [];
      fixed = TextDocument.applyEdits(TextDocument.create(uri, 'json', 1, fixed), [edit]);
    }
    assert.equal(fixed, '{\n  "zero_point": true, \n  "w_bit": 4\n}\n');
    assert.deepEqual(await service.diagnose({ uri, text: fixed }), []);
  });
});

describe('symbols', () => {
  it('names each Python config call after its class', async () => {
    const text = 'a = GPTQConfig(bits=4)\nb = transformers.AwqConfig(bits=4, zero_point=True)\n';
    const symbols = await service.symbols({ uri: 'file:///w/a.py', text });
    assert.deepEqual(
      symbols.map((s) => [s.name, s.detail, s.range, s.children?.map((c) => [c.name, c.detail])]),
      [
        ['GPTQConfig', 'gptq', rangeOf(text, 'GPTQConfig(bits=4)'), [['bits', '4']]],
        [
          'AwqConfig',
          'awq',
          rangeOf(text, 'transformers.AwqConfig(bits=4, zero_point=True)'),
          [
            ['bits', '4'],
            ['zero_point', 'True'],
          ],
        ],
      ],
    );
  });
});
