// The memory estimate on header-only copies of real checkpoints (test/fixtures/big-models): exact weight bytes
// from the headers against each model's published safetensors total, the KV cache with GQA and sliding windows
// (Gemma 3's local layers, Phi-3), tied embeddings, and every quantized layout's bytes computed here from
// config.json's widths, not through the code under test.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { estimateMemory, resolveModel } from '../../../native/model';
import type { JsonObject, MemoryEstimate, ResolvedModel } from '../../../native/model';
import { bigModelsDir, writeHeaderOnlyModel } from '../../helpers/headerOnlyModel';

const temp = mkdtempSync(join(tmpdir(), 'qs-big-models-'));
after(() => rmSync(temp, { recursive: true, force: true }));

const BF16 = 2;
/** Each model's safetensors total_size as its Hub model.safetensors.index.json states it. */
const PUBLISHED_BYTES: Record<string, number> = {
  'llama-3.1-8b': 16_060_522_496,
  'llama-3.1-70b': 141_107_412_992,
  'phi-3-mini-4k': 7_642_159_104,
  'qwen3-8b': 16_381_470_720,
  'mixtral-8x7b': 93_405_585_408,
  'qwen3-30b-a3b': 61_064_245_248,
};

interface Widths {
  h: number;
  inter: number;
  layers: number;
  heads: number;
  kv: number;
  hd: number;
  vocab: number;
  tied: boolean;
  /** Linears per layer as [name, out, in]. */
  linears: Array<[string, number, number]>;
  /** Unquantized bytes: embeddings, lm_head when untied, every norm. */
  kept: number;
}

/** A dense model's widths from its config.json alone. */
function widthsOf(name: string): Widths {
  const c = JSON.parse(readFileSync(join(bigModelsDir, name, 'config.json'), 'utf8')) as Record<string, unknown>;
  const h = c['hidden_size'] as number,
    heads = c['num_attention_heads'] as number,
    kv = c['num_key_value_heads'] as number;
  const hd = (c['head_dim'] as number | undefined) ?? h / heads,
    inter = c['intermediate_size'] as number;
  const layers = c['num_hidden_layers'] as number,
    vocab = c['vocab_size'] as number;
  const gemma = c['model_type'] === 'gemma3_text',
    phi = c['model_type'] === 'phi3',
    qkNorm = gemma || c['model_type'] === 'qwen3';
  const tied = gemma ? c['tie_word_embeddings'] !== false : c['tie_word_embeddings'] === true;
  const linears: Array<[string, number, number]> = phi
    ? [
        ['qkv_proj', (heads + 2 * kv) * hd, h],
        ['o_proj', h, heads * hd],
        ['gate_up_proj', 2 * inter, h],
        ['down_proj', h, inter],
      ]
    : [
        ['q_proj', heads * hd, h],
        ['k_proj', kv * hd, h],
        ['v_proj', kv * hd, h],
        ['o_proj', h, heads * hd],
        ['gate_proj', inter, h],
        ['up_proj', inter, h],
        ['down_proj', h, inter],
      ];
  const normsPerLayer = (gemma ? 4 : 2) * h + (qkNorm ? 2 * hd : 0);
  const kept = BF16 * ((tied ? 1 : 2) * vocab * h + layers * normsPerLayer + h);
  return { h, inter, layers, heads, kv, hd, vocab, tied, linears, kept };
}

const models = new Map<string, ResolvedModel>();
const DENSE = ['llama-3.1-8b', 'llama-3.1-70b', 'gemma-3-27b-text', 'phi-3-mini-4k', 'phi-3.5-mini', 'phi-4-mini-reasoning', 'qwen3-8b'];
const MOE = ['mixtral-8x7b', 'qwen3-30b-a3b'];
before(async () => {
  for (const name of [...DENSE, ...MOE]) {
    const r = await resolveModel(writeHeaderOnlyModel(name, temp), { env: {} });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    models.set(name, r.model);
  }
});

function estimate(name: string, config: JsonObject | undefined, seq = 8192): MemoryEstimate {
  const r = estimateMemory(models.get(name)!, config, { batch: 1, seq });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
/** Bytes of one [out, in] Linear in each layout (AutoGPTQ v1 4- and 3-bit, AutoAWQ GEMM and GEMV, bitsandbytes NF4 and LLM.int8). */
const LAYOUT_BYTES: Record<string, (out: number, inF: number) => number> = {
  gptq: (out, inF) => ((inF * 4) / 32) * out * 4 + ceilDiv(inF, 128) * ((out * 4) / 32) * 4 + ceilDiv(inF, 128) * out * 2 + inF * 4,
  gptq3: (out, inF) =>
    ceilDiv(inF * 3, 32) * out * 4 + ceilDiv(inF, 128) * ceilDiv(out * 3, 32) * 4 + ceilDiv(inF, 128) * out * 2 + inF * 4,
  awq: (out, inF) => inF * (out / 8) * 4 + ceilDiv(inF, 128) * (out / 8) * 4 + ceilDiv(inF, 128) * out * 2,
  // GEMV: qweight [out, in/8], zeros and scales per output row over the groups padded to whole 8-group words.
  awqGemv: (out, inF) => out * (inF / 8) * 4 + out * ceilDiv(ceilDiv(inF, 128), 8) * 4 + out * 8 * ceilDiv(ceilDiv(inF, 128), 8) * 2,
  nf4: (out, inF) =>
    (out * inF) / 2 +
    ceilDiv(out * inF, 64) * 4 +
    16 * 4 +
    `{"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [${out}, ${inF}]}`.length,
  int8: (out, inF) => out * inF + out * 4 + 1,
};
const CONFIGS: Record<string, JsonObject> = {
  gptq: { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false },
  gptq3: { quant_method: 'gptq', bits: 3, group_size: 128, desc_act: false },
  awq: { quant_method: 'awq', bits: 4, group_size: 128, version: 'gemm' },
  awqGemv: { quant_method: 'awq', bits: 4, group_size: 128, version: 'gemv' },
  nf4: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' },
  int8: { quant_method: 'bitsandbytes', load_in_8bit: true },
};

describe('header-only big models: the files', () => {
  it('shards at 5 GB as save_pretrained does, data a hole: the 70B is 141 GB long and takes under 1 MB of disk', () => {
    const folder = models.get('llama-3.1-70b')!.folder!;
    const index = JSON.parse(readFileSync(join(folder, 'model.safetensors.index.json'), 'utf8')) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    const shards = [...new Set(Object.values(index.weight_map))];
    assert.equal(index.metadata.total_size, PUBLISHED_BYTES['llama-3.1-70b']);
    assert.equal(Object.keys(index.weight_map).length, 3 + 80 * 9);
    const sizes = shards.map((s) => statSync(join(folder, s)));
    assert.ok(
      sizes.every((s) => s.size <= 5_000_000_000 + 100_000),
      'no shard above 5 GB',
    );
    assert.equal(sizes.reduce((a, s) => a + s.size, 0) > PUBLISHED_BYTES['llama-3.1-70b'], true);
    assert.ok(sizes.reduce((a, s) => a + s.blocks * 512, 0) < 1_000_000, 'sparse');
  });
});

describe('estimate on the dense big models', () => {
  for (const name of DENSE) {
    it(`${name}: weights as stored are the headers' bytes${PUBLISHED_BYTES[name] ? ', the published total' : ''}`, () => {
      const w = widthsOf(name);
      const expected = w.kept + w.layers * w.linears.reduce((a, [, out, inF]) => a + out * inF * BF16, 0);
      const e = estimate(name, undefined);
      assert.equal(e.weightsBytes, expected);
      if (PUBLISHED_BYTES[name]) assert.equal(e.weightsBytes, PUBLISHED_BYTES[name]);
      assert.equal(
        e.breakdown.find((l) => l.label === 'lm_head') === undefined,
        w.tied,
        'a tied lm_head has no tensor and is not counted twice',
      );
    });
    for (const method of Object.keys(LAYOUT_BYTES)) {
      it(`${name}: ${method} weights are every Linear's layout bytes plus embeddings, lm_head and norms as stored`, () => {
        const w = widthsOf(name);
        const expected = w.kept + w.layers * w.linears.reduce((a, [, out, inF]) => a + LAYOUT_BYTES[method](out, inF), 0);
        assert.equal(estimate(name, CONFIGS[method]).weightsBytes, expected);
      });
    }
  }

  it('Llama-3.1-8B in bf16 is the 16.06 GB its model card states', () => {
    assert.equal((estimate('llama-3.1-8b', undefined).weightsBytes / 1e9).toFixed(2), '16.06');
  });

  it('KV cache with GQA: 2 × layers × kv_heads × head_dim × tokens × 2 bytes (Llama-3.1-8B: 128 KiB a token; 70B: 320 KiB)', () => {
    for (const name of ['llama-3.1-8b', 'llama-3.1-70b', 'qwen3-8b']) {
      const w = widthsOf(name);
      assert.equal(estimate(name, undefined, 8192).kvCacheBytes, 2 * w.layers * w.kv * w.hd * 8192 * BF16, name);
    }
    assert.equal(estimate('llama-3.1-8b', undefined, 1).kvCacheBytes, 128 * 1024);
    assert.equal(estimate('llama-3.1-70b', undefined, 1).kvCacheBytes, 320 * 1024);
  });

  it('Gemma-3-27B: the 52 local layers keep at most window − 1 = 1023 positions, the 10 global layers all of them', () => {
    const w = widthsOf('gemma-3-27b-text');
    const global = Array.from({ length: w.layers }, (_, i) => (i + 1) % 6 === 0).filter(Boolean).length;
    assert.equal(global, 10);
    const perPosition = 2 * w.kv * w.hd * BF16;
    for (const seq of [512, 1023, 1024, 8192, 131072]) {
      assert.equal(
        estimate('gemma-3-27b-text', undefined, seq).kvCacheBytes,
        perPosition * (global * seq + (w.layers - global) * Math.min(seq, 1023)),
        `seq ${seq}`,
      );
    }
    // At 128k tokens the windows leave 10.4 GiB of the 62 GiB a cache without them would take.
    assert.equal((estimate('gemma-3-27b-text', undefined, 131072).kvCacheBytes / 2 ** 30).toFixed(1), '10.4');
    assert.equal((perPosition * w.layers * 131072) / 2 ** 30, 62);
  });

  it('Gemma-3-27B as the Hub publishes it (Gemma3ForConditionalGeneration, the language model under text_config): the same cache', () => {
    const text = models.get('gemma-3-27b-text')!;
    const { architectures: _, ...textConfig } = text.config;
    const multimodal: ResolvedModel = {
      ...text,
      config: { architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3', text_config: textConfig },
    };
    for (const seq of [1023, 8192]) {
      const e = estimateMemory(multimodal, undefined, { batch: 1, seq });
      assert.ok(e.ok);
      assert.equal(e.value.kvCacheBytes, estimate('gemma-3-27b-text', undefined, seq).kvCacheBytes, `seq ${seq}`);
    }
  });

  it("Phi-3.5-mini and Phi-4-mini: a window of 262144 beyond their 131072 positions, so every position stays; Phi-4-mini's GQA and tied lm_head", () => {
    for (const [name, perToken] of [
      ['phi-3.5-mini', 384 * 1024],
      ['phi-4-mini-reasoning', 128 * 1024],
    ] as const) {
      const w = widthsOf(name);
      assert.equal(2 * w.layers * w.kv * w.hd * BF16, perToken, name);
      for (const seq of [4096, 131072]) assert.equal(estimate(name, undefined, seq).kvCacheBytes, perToken * seq, `${name} seq ${seq}`);
    }
    // Phi-3.5-mini has Phi-3-mini's shapes (32064 × 3072 embeddings, fused 9216-row qkv_proj). Phi-4-mini's 200064-token
    // embedding is its lm_head too, stored once: 7 672 043 520 bytes is the state_dict of transformers 5.23's
    // Phi3ForCausalLM built from this config on the meta device, lm_head left out as save_pretrained leaves it.
    assert.equal(estimate('phi-3.5-mini', undefined).weightsBytes, PUBLISHED_BYTES['phi-3-mini-4k']);
    assert.equal(estimate('phi-4-mini-reasoning', undefined).weightsBytes, 7_672_043_520);
  });

  it('Phi-3-mini-4k slides on every layer (window 2047): its cache stops growing at 2046 positions', () => {
    const w = widthsOf('phi-3-mini-4k');
    assert.equal(estimate('phi-3-mini-4k', undefined, 4096).kvCacheBytes, 2 * w.layers * w.kv * w.hd * 2046 * BF16);
    assert.equal(estimate('phi-3-mini-4k', undefined, 2000).kvCacheBytes, 2 * w.layers * w.kv * w.hd * 2000 * BF16);
  });
});

describe('estimate on the MoE big models (what the estimate does before MoE support)', () => {
  for (const name of MOE) {
    it(`${name}: weights as stored are the published total, every expert counted`, () => {
      assert.equal(estimate(name, undefined).weightsBytes, PUBLISHED_BYTES[name]);
    });
  }
  it('their attention: the KV cache with GQA and the GPTQ bytes of q/k/v/o', () => {
    const attention = {
      'mixtral-8x7b': { layers: 32, h: 4096, q: 4096, kv: 1024 },
      'qwen3-30b-a3b': { layers: 48, h: 2048, q: 4096, kv: 512 },
    };
    for (const [name, a] of Object.entries(attention)) {
      const e = estimate(name, CONFIGS['gptq'], 4096);
      assert.equal(e.kvCacheBytes, 2 * a.layers * a.kv * 4096 * BF16, name);
      const line = (label: string): number => e.breakdown.find((l) => l.label === label)?.bytes ?? -1;
      assert.deepEqual(
        [line('q_proj'), line('k_proj'), line('v_proj'), line('o_proj')],
        [
          [a.q, a.h],
          [a.kv, a.h],
          [a.kv, a.h],
          [a.h, a.q],
        ].map(([out, inF]) => a.layers * LAYOUT_BYTES['gptq'](out, inF)),
        name,
      );
    }
    // 98 304 bytes of cache a token for Qwen3-30B-A3B (48 layers × 4 KV heads × 128 × K and V × bf16).
    assert.equal(estimate('qwen3-30b-a3b', undefined, 1).kvCacheBytes, 98_304);
  });
});
