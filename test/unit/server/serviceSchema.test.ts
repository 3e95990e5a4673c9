// ajv schema errors → diagnostics on the exact range of the offending key or value, with messages a user
// can act on and the fixes the schema layer owns (string-as-number, enum did-you-mean, unknown-key rename).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLanguageService } from '../../../server/src/service';
import type { ServiceDiagnostic } from '../../../server/src/service';
import { rangeOf } from '../../lsp/textRanges';

const service = createLanguageService();

function schemaOnly(diagnostics: ServiceDiagnostic[]): ServiceDiagnostic[] {
  return diagnostics.filter((d) => d.code.startsWith('schema/'));
}

describe('schema validation', () => {
  it('flags a number written as a string, with a fix to the number', async () => {
    const text = '{\n  "bits": "4",\n  "group_size": 128\n}\n';
    const [d] = schemaOnly(await service.diagnose({ uri: 'file:///m/quantize_config.json', text }));
    assert.deepEqual([d.code, d.severity, d.range], ['schema/type', 1, rangeOf(text, '"4"')]);
    assert.equal(d.message, '"bits" must be a number, not a string: write 4 without quotes.');
    assert.deepEqual(d.data?.fixes, [{ kind: 'setValue', key: 'bits', value: 4, title: 'Change to the number 4' }]);
  });

  it('reports unknown keys as warnings with a did-you-mean rename', async () => {
    const text = '{"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_typ": "nf4"}}';
    const [d] = schemaOnly(await service.diagnose({ uri: 'file:///m/config.json', text }));
    assert.deepEqual([d.code, d.severity, d.range], ['schema/additionalProperties', 2, rangeOf(text, '"bnb_4bit_quant_typ"')]);
    assert.match(d.message, /^Unknown key "bnb_4bit_quant_typ" in .*Did you mean "bnb_4bit_quant_type"\?$/);
    assert.deepEqual(d.data?.fixes, [
      { kind: 'renameKey', key: 'bnb_4bit_quant_typ', newKey: 'bnb_4bit_quant_type', title: 'Rename to "bnb_4bit_quant_type"' },
    ]);
  });

  it('gives no rename for an unknown key that resembles nothing', async () => {
    const text = '{"bits": 4, "zzzzzzzz": 1}';
    const [d] = schemaOnly(await service.diagnose({ uri: 'file:///m/quantize_config.json', text }));
    assert.equal(d.code, 'schema/additionalProperties');
    assert.equal(d.data, undefined);
  });

  it('suggests the closest enum value', async () => {
    const text = "GPTQConfig(bits=4, pack_dtype='int23')";
    const [d] = schemaOnly(await service.diagnose({ uri: 'file:///m/q.py', text }));
    assert.deepEqual([d.code, d.severity, d.range], ['schema/enum', 1, rangeOf(text, "'int23'")]);
    assert.equal(d.message, '"pack_dtype" must be one of "int8", "int16", "int32", "int64"; did you mean "int32"?');
    assert.deepEqual(d.data?.fixes, [{ kind: 'setValue', key: 'pack_dtype', value: 'int32', title: 'Change to "int32"' }]);
  });

  it('describes what an anyOf accepts, on the offending value', async () => {
    const text = '{"model": "m", "quantization_config": {"quant_method": "gptq", "bits": 4}, "calibration": {"dataset": ["a", 3]}}';
    const [d] = schemaOnly(await service.diagnose({ uri: 'file:///m/x.quant.json', text }));
    assert.deepEqual([d.code, d.severity, d.range], ['schema/anyOf', 1, rangeOf(text, '["a", 3]')]);
    assert.equal(d.message, '"calibration.dataset" must be a string, or an array of strings.');
  });

  it('puts a missing required key on the object and names it', async () => {
    const text = '{\n  "quantization_config": {"quant_method": "gptq", "bits": 4}\n}\n';
    const [d] = schemaOnly(await service.diagnose({ uri: 'file:///m/job.quant.json', text }));
    assert.deepEqual([d.code, d.severity, d.range], ['schema/required', 1, rangeOf(text, '{')]);
    assert.match(d.message, /^Missing required key "model"/);
  });

  it('reports range limits with the actual value, relative to the config', async () => {
    const text = '{"model": "m", "quantization_config": {"quant_method": "gptq", "bits": 4}, "calibration": {"nsamples": 0}}';
    const [d] = schemaOnly(await service.diagnose({ uri: 'file:///m/job.quant.json', text }));
    assert.deepEqual([d.code, d.range], ['schema/minimum', rangeOf(text, '0')]);
    assert.equal(d.message, '"calibration.nsamples" must be >= 1 (it is 0).');
  });

  it('never calls a key missing when a Python call may pass it positionally or via **kwargs', async () => {
    const positional = await service.diagnose({ uri: 'file:///m/a.py', text: 'AwqConfig(4, zero_point=True)' });
    assert.deepEqual(
      positional.filter((d) => d.code === 'schema/required'),
      [],
    );
  });

  it('skips Python values that are not literals', async () => {
    const text = 'BitsAndBytesConfig(load_in_4bit=True, llm_int8_threshold=threshold, bnb_4bit_compute_dtype=torch.float16)';
    assert.deepEqual(schemaOnly(await service.diagnose({ uri: 'file:///m/a.py', text })), []);
  });

  it('notes unvalidated methods and flags a missing quant_method', async () => {
    const hqq = await service.diagnose({
      uri: 'file:///m/config.json',
      text: '{"quantization_config": {"quant_method": "hqq", "nbits": "x"}}',
    });
    assert.deepEqual(
      hqq.map((d) => [d.code, d.severity]),
      [['config/unvalidated-method', 3]],
    );
    const text = '{"quantization_config": {"bits": 4}}';
    const missing = await service.diagnose({ uri: 'file:///m/config.json', text });
    assert.deepEqual(
      missing.map((d) => [d.code, d.severity, d.range]),
      [['config/missing-quant-method', 1, rangeOf(text, '{', 1)]],
    );
  });

  it('ignores files that are not ours', async () => {
    assert.deepEqual(await service.diagnose({ uri: 'file:///m/tokenizer.json', text: '{"bits": "4"}' }), []);
    assert.deepEqual(await service.diagnose({ uri: 'file:///m/config.json', text: '{"bits": "4"}' }), []);
  });
});
