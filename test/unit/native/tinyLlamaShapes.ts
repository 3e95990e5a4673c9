// tiny-llama's shapes, read from its config.json here (not through the code under test), for the tests that
// compute an estimate's terms independently: the GPU estimate and the CPU engine's estimate.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const repo = join(__dirname, '..', '..', '..', '..');
export const tinyLlamaDir = join(repo, 'examples', 'tiny-llama');
const config = JSON.parse(readFileSync(join(tinyLlamaDir, 'config.json'), 'utf8')) as Record<string, number>;
export const H = config['hidden_size']!;
export const I = config['intermediate_size']!;
export const V = config['vocab_size']!;
export const L = config['num_hidden_layers']!;
export const HEADS = config['num_attention_heads']!;
export const KV = config['num_key_value_heads']!;
export const HD = config['head_dim']!;
/** tiny-llama's Linears per layer as [name, out, in]. */
export const LINEARS: ReadonlyArray<[string, number, number]> = [
  ['q_proj', HEADS * HD, H],
  ['k_proj', KV * HD, H],
  ['v_proj', KV * HD, H],
  ['o_proj', H, HEADS * HD],
  ['gate_proj', I, H],
  ['up_proj', I, H],
  ['down_proj', H, I],
];
