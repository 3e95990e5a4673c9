// GPTQModel 7.7's `dynamic` in native/model: the regex translation (Python / PCRE2 spellings, what is not evaluated),
// the order of precedence, and the memory estimate with per-module bits, group sizes and skips on Llama-3.1-8B's
// header-only copy, each Linear's GPTQ v1 bytes computed here from config.json's widths.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileDynamicPattern, dynamicRuleFor, dynamicRules, estimateMemory, resolveModel } from '../../../native/model';
import type { JsonObject, MemoryEstimate, ResolvedModel } from '../../../native/model';
import { bigModelsDir, writeHeaderOnlyModel } from '../../helpers/headerOnlyModel';

const repo = join(__dirname, '..', '..', '..', '..');
const corpus = JSON.parse(
  readFileSync(join(repo, 'test', 'fixtures', 'corpus', 'gptqmodel-deepseek-r1-distill-dynamic', 'quantize_config.json'), 'utf8'),
) as JsonObject;

describe('dynamic regexes', () => {
  it('Python and PCRE2 spellings compile to what PCRE2 matches from the start of the name', () => {
    const matchesName = (pattern: string, name: string): boolean => {
      const c = compileDynamicPattern(pattern);
      assert.equal(c.ok, true, pattern);
      return dynamicRuleFor(dynamicRules({ [pattern]: {} }), name) !== undefined;
    };
    assert.equal(matchesName('(?P<p>model)\\.layers\\.1\\d\\.', 'model.layers.12.mlp.down_proj'), true);
    assert.equal(matchesName('(?P<p>l)m_head|(?P=p)ayers', 'lm_head'), true);
    assert.equal(matchesName('mlp\\.down_proj', 'model.layers.0.mlp.down_proj'), false, 'match() is anchored at the start');
    assert.equal(matchesName('.*mlp\\.down', 'model.layers.0.mlp.down_proj'), true, 'but not at the end');
    assert.equal(matchesName('lm_head\\Z', 'lm_head'), true);
    assert.equal(matchesName('(?i)LM_HEAD', 'lm_head'), true);
    assert.equal(matchesName('[]l]m_head', 'lm_head'), true, '] first in a class is a literal');
  });

  it('errors carry the reason; PCRE2-only constructs are not evaluated', () => {
    assert.deepEqual(compileDynamicPattern('model.layers.['), { ok: false, error: 'Unterminated character class' });
    assert.deepEqual(compileDynamicPattern('a)'), { ok: false, error: "Unmatched ')'" });
    assert.deepEqual(compileDynamicPattern('(?>model)'), { ok: 'unsupported', construct: 'atomic group (?>…)' });
    assert.deepEqual(compileDynamicPattern('model.*+'), { ok: 'unsupported', construct: 'possessive quantifier' });
    assert.deepEqual(compileDynamicPattern('a(?i:b)'), { ok: 'unsupported', construct: 'inline flags inside the pattern' });
  });

  it('"-:" keys come first whatever their place in the file; then the first positive match decides', () => {
    const rules = dynamicRules({ '.*mlp': { bits: 3 }, '+:.*mlp.down_proj': { bits: 8 }, '-:.*layers\\.0\\.': {} });
    assert.deepEqual(
      rules.map((r) => [r.key, r.skip, r.pattern]),
      [
        ['-:.*layers\\.0\\.', true, '.*layers\\.0\\.'],
        ['.*mlp', false, '.*mlp'],
        ['+:.*mlp.down_proj', false, '.*mlp.down_proj'],
      ],
    );
    assert.equal(dynamicRuleFor(rules, 'model.layers.0.mlp.down_proj')?.skip, true);
    assert.equal(dynamicRuleFor(rules, 'model.layers.1.mlp.down_proj')?.key, '.*mlp');
    assert.equal(dynamicRuleFor(rules, 'model.layers.1.self_attn.q_proj'), undefined);
  });
});

describe('the estimate with dynamic on Llama-3.1-8B', () => {
  const temp = mkdtempSync(join(tmpdir(), 'qs-dynamic-'));
  after(() => rmSync(temp, { recursive: true, force: true }));
  let model: ResolvedModel;
  before(async () => {
    const r = await resolveModel(writeHeaderOnlyModel('llama-3.1-8b', temp), { env: {} });
    assert.ok(r.ok);
    model = r.model;
  });
  const c = JSON.parse(readFileSync(join(bigModelsDir, 'llama-3.1-8b', 'config.json'), 'utf8')) as Record<string, number>;
  const [h, inter, layers, kv, hd] = [c['hidden_size'], c['intermediate_size'], c['num_hidden_layers'], c['num_key_value_heads'], 128];
  const linears: Array<[string, number, number]> = [
    ['q_proj', h, h],
    ['k_proj', kv * hd, h],
    ['v_proj', kv * hd, h],
    ['o_proj', h, h],
    ['gate_proj', inter, h],
    ['up_proj', inter, h],
    ['down_proj', h, inter],
  ];
  const kept = 2 * (2 * c['vocab_size'] * h + layers * 2 * h + h); // bf16 embeddings, lm_head, norms
  const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
  /** GPTQ v1: qweight, qzeros (int32), scales (fp16), g_idx (int32). */
  const gptq = (bits: number, group: number, out: number, inF: number): number =>
    ceilDiv(inF * bits, 32) * out * 4 + ceilDiv(inF, group) * ceilDiv(out * bits, 32) * 4 + ceilDiv(inF, group) * out * 2 + inF * 4;
  const estimate = (config: JsonObject): MemoryEstimate => {
    const r = estimateMemory(model, config, { batch: 1, seq: 2048 });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    return r.value;
  };

  it("the corpus's DeepSeek-R1-Distill dynamic: every down_proj at 8-bit g32, the rest at 4-bit g128", () => {
    const e = estimate(corpus);
    const perLayer = linears.map(([name, out, inF]) => (name === 'down_proj' ? gptq(8, 32, out, inF) : gptq(4, 128, out, inF)));
    const quantized = layers * perLayer.reduce((a, b) => a + b, 0);
    assert.equal(e.weightsBytes, kept + quantized);
    const params = layers * linears.reduce((a, [, out, inF]) => a + out * inF, 0);
    assert.equal(e.bitsPerWeight, (8 * quantized) / params);
    assert.equal(e.method, 'GPTQ 4-bit g128 act-order + dynamic (2 rules)');
  });

  it('a "-:" key leaves layer 0\'s attention as stored; a group_size override changes the scales and zeros only', () => {
    const e = estimate({ ...corpus, dynamic: { '-:model\\.layers\\.0\\.self_attn': {}, '.*up_proj': { group_size: 64 } } });
    const attention = linears.slice(0, 4);
    const perLayer = (layer: number): number =>
      linears.reduce((a, [name, out, inF]) => {
        if (layer === 0 && attention.some(([n]) => n === name)) return a + out * inF * 2;
        return a + gptq(4, name === 'up_proj' ? 64 : 128, out, inF);
      }, 0);
    let expected = kept;
    for (let layer = 0; layer < layers; layer++) expected += perLayer(layer);
    assert.equal(e.weightsBytes, expected);
  });

  it('a bits override the estimate cannot take says which key', () => {
    const r = estimateMemory(model, { ...corpus, dynamic: { '.*mlp': { bits: 6 } } }, { batch: 1, seq: 2048 });
    assert.ok(!r.ok);
    assert.deepEqual([r.error.message, r.error.where], ['GPTQ with 6 bits', 'quantization config → dynamic → ".*mlp"']);
  });
});
