// The schemas are the single source of key docs: each must compile under ajv's strict mode, and every key of
// the method schemas must carry a type, a plain and a markdown description, and its provenance (x-library).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';

const schemasDir = join(__dirname, '..', '..', '..', '..', 'schemas');
const files = readdirSync(schemasDir).filter((f) => f.endsWith('.schema.json') && !f.startsWith('run-result'));

type SchemaObject = { [key: string]: unknown; properties?: Record<string, SchemaObject> };
const load = (file: string) => JSON.parse(readFileSync(join(schemasDir, file), 'utf8')) as SchemaObject;

function xKeywords(node: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => xKeywords(n, found));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('x-')) found.add(k);
      xKeywords(v, found);
    }
  }
  return found;
}

describe('config schemas', () => {
  it('compile under ajv strict mode with the annotation keywords registered', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    const keywords = new Set<string>(['markdownDescription']);
    for (const f of files) xKeywords(load(f), keywords);
    for (const k of keywords) ajv.addKeyword(k);
    for (const f of files) ajv.addSchema(load(f));
    for (const f of files) {
      assert.ok(ajv.getSchema(`https://quantstudio.invalid/schemas/${f}`), `${f} did not compile`);
    }
    // quant_method picks the method schema; methods we do not validate pass untouched.
    const modelConfig = ajv.getSchema('https://quantstudio.invalid/schemas/model-config.schema.json');
    assert.ok(modelConfig);
    assert.equal(modelConfig({ quantization_config: { quant_method: 'gptq', bits: 4, group_size: 'x' } }), false);
    assert.equal(modelConfig({ quantization_config: { quant_method: 'hqq', quant_config: {}, skip_modules: ['lm_head'] } }), true);
    assert.equal(modelConfig({ architectures: ['LlamaForCausalLM'], hidden_size: 4096 }), true);
    // compressed-tensors is described: the config llm-compressor 0.14 wrote passes, a mistyped ignore list does not.
    const written = JSON.parse(
      readFileSync(join(schemasDir, '..', 'test', 'fixtures', 'upstream-written', 'llmcompressor-w4a16-asym', 'config.json'), 'utf8'),
    ) as { quantization_config: Record<string, unknown> };
    assert.equal(modelConfig(written), true, JSON.stringify(modelConfig.errors));
    assert.equal(modelConfig({ quantization_config: { ...written.quantization_config, ignore: 'lm_head' } }), false);
  });

  for (const file of [
    'gptq.schema.json',
    'awq.schema.json',
    'bitsandbytes.schema.json',
    'compressed-tensors.schema.json',
    'autogptq-quantize-config.schema.json',
    'autoawq-quant-config.schema.json',
  ]) {
    it(`${file}: every key is typed, documented and attributed`, () => {
      const schema = load(file);
      assert.equal(schema.additionalProperties, false, 'method objects are closed (unknown keys become warnings)');
      for (const [key, prop] of Object.entries(schema.properties ?? {})) {
        assert.ok(prop.type !== undefined || prop.anyOf !== undefined, `${key}: no type`);
        assert.equal(typeof prop.description, 'string', `${key}: no description`);
        assert.equal(typeof prop.markdownDescription, 'string', `${key}: no markdownDescription`);
        assert.match(String(prop['x-library']), /\d+\.\d+/, `${key}: x-library names no release`);
      }
    });
  }
});
