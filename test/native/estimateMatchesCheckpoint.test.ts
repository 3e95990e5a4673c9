// The memory estimate's weight bytes against the checkpoints the engine actually writes: for every method,
// the predicted size must equal the written safetensors files' size within 0.5 % (the difference is the
// files' JSON headers), on the demo model and on a larger random-weight Llama with odd shapes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSafetensors } from '../../native/lib/io';
import type { TensorToWrite } from '../../native/lib/io';
import { estimateMemory, resolveModel } from '../../native/model';
import type { JsonObject } from '../../native/model';
import { quantizeModel } from '../../native/lib/quantize';

const repo = join(__dirname, '..', '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'qs-estimate-size-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A random-weight Llama (fp16) large enough that headers are a small share: ~40M parameters. */
function writeRandomLlama(folder: string): void {
  const c = { hidden: 512, intermediate: 1408, layers: 6, heads: 8, kvHeads: 2, headDim: 64, vocab: 16000 };
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: c.hidden,
    intermediate_size: c.intermediate,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    head_dim: c.headDim,
    vocab_size: c.vocab,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    hidden_act: 'silu',
    rope_parameters: { rope_theta: 10000, rope_type: 'default' },
    tie_word_embeddings: false,
    torch_dtype: 'float16',
    bos_token_id: 1,
    eos_token_id: 2,
  };
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  // fp16 bit patterns of random values: random sign, exponent 10..13 (magnitudes 2^-5..2^-1), random mantissa.
  const f16 = (shape: number[]): TensorToWrite => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Uint16Array(n);
    for (let i = 0; i < n; i++)
      data[i] = (random() < 0 ? 0x8000 : 0) | ((10 + Math.floor((random() + 0.5) * 4)) << 10) | Math.floor((random() + 0.5) * 1023);
    return { name: '', dtype: 'F16', shape, data };
  };
  const ones = (n: number): TensorToWrite => ({ name: '', dtype: 'F16', shape: [n], data: new Uint16Array(n).fill(0x3c00) });
  const tensors: TensorToWrite[] = [];
  const add = (name: string, t: TensorToWrite): void => void tensors.push({ ...t, name });
  add('model.embed_tokens.weight', f16([c.vocab, c.hidden]));
  add('lm_head.weight', f16([c.vocab, c.hidden]));
  add('model.norm.weight', ones(c.hidden));
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.input_layernorm.weight`, ones(c.hidden));
    add(`${p}.post_attention_layernorm.weight`, ones(c.hidden));
    add(`${p}.self_attn.q_proj.weight`, f16([c.heads * c.headDim, c.hidden]));
    add(`${p}.self_attn.k_proj.weight`, f16([c.kvHeads * c.headDim, c.hidden]));
    add(`${p}.self_attn.v_proj.weight`, f16([c.kvHeads * c.headDim, c.hidden]));
    add(`${p}.self_attn.o_proj.weight`, f16([c.hidden, c.heads * c.headDim]));
    add(`${p}.mlp.gate_proj.weight`, f16([c.intermediate, c.hidden]));
    add(`${p}.mlp.up_proj.weight`, f16([c.intermediate, c.hidden]));
    add(`${p}.mlp.down_proj.weight`, f16([c.hidden, c.intermediate]));
  }
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config, null, 2));
  writeSafetensors(join(folder, 'model.safetensors'), tensors);
}

const METHODS: Array<{ label: string; config: JsonObject; algorithm?: 'rtn' }> = [
  { label: 'GPTQ 4-bit g128', algorithm: 'rtn', config: { quant_method: 'gptq', bits: 4, group_size: 128 } },
  { label: 'GPTQ 3-bit g128', algorithm: 'rtn', config: { quant_method: 'gptq', bits: 3, group_size: 128 } },
  { label: 'GPTQ 8-bit per channel', algorithm: 'rtn', config: { quant_method: 'gptq', bits: 8, group_size: -1 } },
  {
    label: 'AWQ GEMM 4-bit g128',
    algorithm: 'rtn',
    config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' },
  },
  {
    label: 'AWQ GEMV 4-bit g64',
    algorithm: 'rtn',
    config: { quant_method: 'awq', bits: 4, group_size: 64, zero_point: true, version: 'gemv' },
  },
  {
    label: 'NF4 double quant',
    config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true },
  },
  { label: 'FP4', config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'fp4' } },
  { label: 'int8', config: { quant_method: 'bitsandbytes', load_in_8bit: true } },
];

function safetensorsBytes(folder: string): number {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((sum, f) => sum + statSync(join(folder, f)).size, 0);
}

for (const [name, source] of [
  ['tiny-llama', join(repo, 'examples', 'tiny-llama')],
  ['random Llama (40M)', join(scratch, 'random-llama')],
] as const) {
  describe(`estimated weights = written checkpoint within 0.5 %: ${name}`, () => {
    before(() => {
      if (source.startsWith(scratch)) writeRandomLlama(source);
    });
    for (const m of METHODS) {
      it(m.label, async () => {
        const out = join(scratch, `${name}-${m.label}`.replace(/\W+/g, '-'));
        await quantizeModel({ model: source, config: m.config, algorithm: m.algorithm, out });
        const resolved = await resolveModel(source, { env: {} });
        assert.ok(resolved.ok);
        const estimate = estimateMemory(resolved.model, m.config, { batch: 1, seq: 16 });
        assert.ok(estimate.ok);
        const written = safetensorsBytes(out);
        const ratio = estimate.value.weightsBytes / written;
        assert.ok(
          Math.abs(ratio - 1) <= 0.005,
          `${m.label}: estimated ${estimate.value.weightsBytes} B, written ${written} B (ratio ${ratio.toFixed(5)})`,
        );
        rmSync(out, { recursive: true, force: true });
      });
    }
  });
}
