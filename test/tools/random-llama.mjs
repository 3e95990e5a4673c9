#!/usr/bin/env node
// Deterministic random-weight fp16 models for memory and speed benchmarks, written once into a cache folder
// outside the repository and reused: config.json, model.safetensors (streamed, so writing it needs no more
// memory than one tensor) and the demo model's tokenizer files (its 4,096 ids fit inside every vocabulary
// here). A spec stamp beside the weights tells a stale cache from a good one. Two kinds of spec:
//  - RANDOM_LLAMA: a 349M Llama of chosen widths;
//  - REAL_SHAPES: the exact shapes of real checkpoints, from their real config.json (random-shapes.mjs).
//
//   node test/tools/random-llama.mjs [shape]    → prints the folder (writing it first when missing);
//                                                 shape: one of REAL_SHAPES' keys, else the 349M model
//   node test/tools/random-llama.mjs shape --tensors → prints the config and [name, shape] list as JSON, writes nothing
//
// The folder is <XDG_CACHE_HOME or ~/.cache>/quantstudio-bench/<spec name>.
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REAL_SHAPES, realConfigJson, realTensorList } from './random-shapes.mjs';

export { REAL_SHAPES };

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** hidden 1024 · 24 layers · intermediate 2816 · 16 heads (8 KV) · vocab 32000, untied: 348.7M parameters. */
export const RANDOM_LLAMA = {
  name: 'random-llama-350m',
  hidden: 1024,
  intermediate: 2816,
  layers: 24,
  heads: 16,
  kvHeads: 8,
  headDim: 64,
  vocab: 32000,
  seed: 20251123,
};

export function benchCacheDir() {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'quantstudio-bench');
}

function configJson(c) {
  return {
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
    dtype: 'float16',
    bos_token_id: 0,
    eos_token_id: 0,
  };
}

/** [name, shape, kind] in file order; kind 'ones' for norms, 'random' for everything else. */
function tensorList(c) {
  const list = [['model.embed_tokens.weight', [c.vocab, c.hidden], 'random']];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    list.push(
      [`${p}.input_layernorm.weight`, [c.hidden], 'ones'],
      [`${p}.self_attn.q_proj.weight`, [c.heads * c.headDim, c.hidden], 'random'],
      [`${p}.self_attn.k_proj.weight`, [c.kvHeads * c.headDim, c.hidden], 'random'],
      [`${p}.self_attn.v_proj.weight`, [c.kvHeads * c.headDim, c.hidden], 'random'],
      [`${p}.self_attn.o_proj.weight`, [c.hidden, c.heads * c.headDim], 'random'],
      [`${p}.post_attention_layernorm.weight`, [c.hidden], 'ones'],
      [`${p}.mlp.gate_proj.weight`, [c.intermediate, c.hidden], 'random'],
      [`${p}.mlp.up_proj.weight`, [c.intermediate, c.hidden], 'random'],
      [`${p}.mlp.down_proj.weight`, [c.hidden, c.intermediate], 'random'],
    );
  }
  list.push(['model.norm.weight', [c.hidden], 'ones'], ['lm_head.weight', [c.vocab, c.hidden], 'random']);
  return list;
}

/** A spec of REAL_SHAPES carries its config; RANDOM_LLAMA is built from its widths. */
const isReal = (c) => c.config !== undefined;
const tensorsOf = (c) => (isReal(c) ? realTensorList(c) : tensorList(c));

export function parameterCount(c = RANDOM_LLAMA) {
  return tensorsOf(c).reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

/** Writes a safetensors file tensor by tensor: the header first, then each tensor's fp16 data. */
function writeWeights(file, c) {
  const list = tensorsOf(c);
  const header = {};
  let offset = 0;
  for (const [name, shape] of list) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the data starts 8-byte aligned
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, prefix);
    writeSync(fd, json);
    // xorshift32: the same bytes on every machine. Values are fp16 bit patterns with a random sign, exponent
    // 8..11 (magnitudes 2^-7..2^-4, initialiser-like) and a random mantissa.
    let state = c.seed >>> 0 || 1;
    for (const [, shape, kind] of list) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Uint16Array(n);
      if (kind === 'ones') data.fill(0x3c00);
      else {
        for (let i = 0; i < n; i++) {
          state ^= state << 13;
          state >>>= 0;
          state ^= state >>> 17;
          state ^= state << 5;
          state >>>= 0;
          data[i] = (state & 0x8000) | ((8 + (state >>> 30)) << 10) | ((state >>> 16) & 0x3ff);
        }
      }
      writeSync(fd, new Uint8Array(data.buffer));
    }
  } finally {
    closeSync(fd);
  }
}

/** The model folder, written first when the cache lacks it or holds another spec. */
export function ensureRandomLlama(c = RANDOM_LLAMA, log = (line) => process.stderr.write(`${line}\n`)) {
  const folder = join(benchCacheDir(), c.name);
  const stamp = JSON.stringify(c);
  const stampFile = join(folder, 'generator.json');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return folder;
  log(`writing ${c.name} (${(parameterCount(c) / 1e6).toFixed(1)}M parameters) to ${folder} …`);
  const staging = `${folder}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'config.json'), JSON.stringify(isReal(c) ? realConfigJson(c) : configJson(c), null, 2) + '\n');
  for (const name of ['tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(root, 'examples', 'tiny-llama', name), join(staging, name));
  writeWeights(join(staging, 'model.safetensors'), c);
  writeFileSync(join(staging, 'generator.json'), stamp);
  rmSync(folder, { recursive: true, force: true });
  renameSync(staging, folder);
  return folder;
}

/** The folder of a real shape by its REAL_SHAPES key. */
export function ensureRealShape(key, log) {
  const spec = REAL_SHAPES[key];
  if (!spec) throw new Error(`no real shape '${key}': use one of ${Object.keys(REAL_SHAPES).join(', ')}`);
  return ensureRandomLlama(spec, log);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const key = process.argv[2];
  const spec = REAL_SHAPES[key];
  if (process.argv.includes('--tensors') && spec)
    console.log(JSON.stringify({ config: realConfigJson(spec), tensors: tensorsOf(spec).map(([name, shape]) => [name, shape]) }));
  else console.log(key === undefined ? ensureRandomLlama() : ensureRealShape(key));
}
