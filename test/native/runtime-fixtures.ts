// Fixture access for the runtime tests: model folders and the golden logits written by transformers.
import * as fs from 'fs';
import * as path from 'path';

/** Repository root, from out/test/native/ (compiled) or test/native/ (sources). */
export const repoRoot = [path.join(__dirname, '..', '..', '..'), path.join(__dirname, '..', '..')].find((p) =>
  fs.existsSync(path.join(p, 'examples', 'tiny-llama', 'config.json')),
) as string;

export const tinyLlamaDir = path.join(repoRoot, 'examples', 'tiny-llama');

/** Golden prompts: model folder + golden file; the random-weight models keep their weights next to the goldens. */
export const goldenModels = [
  {
    name: 'tiny-llama (Llama, fp16, GQA)',
    dir: tinyLlamaDir,
    golden: path.join(repoRoot, 'test', 'fixtures', 'tiny-llama', 'golden_logits.safetensors'),
  },
  ...[
    'qwen2-random',
    'mistral-random',
    'opt-random',
    'opt-350m-style-random',
    'llama3.2-random',
    'qwen3-random',
    'llama-linear-random',
    'llama-dynamic-random',
    'llama-yarn-random',
    'llama-longrope-random',
    'mistral-window-random',
    'qwen2-window-random',
    'gemma2-random',
    'gemma3-random',
    'phi3-random',
    'phi4-mini-random',
    'mixtral-random',
    'qwen2-moe-random',
    'qwen3-moe-random',
  ].map((name) => ({
    name,
    dir: path.join(repoRoot, 'test', 'fixtures', name),
    golden: path.join(repoRoot, 'test', 'fixtures', name, 'golden_logits.safetensors'),
  })),
];

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads the I32 / F32 tensors of a small safetensors file (test fixtures only). */
export function readSafetensors(file: string): Map<string, { shape: number[]; data: Int32Array | Float32Array }> {
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, HeaderEntry>;
  const out = new Map<string, { shape: number[]; data: Int32Array | Float32Array }>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = entry.data_offsets;
    const slice = bytes.buffer.slice(bytes.byteOffset + 8 + headerLength + b, bytes.byteOffset + 8 + headerLength + e);
    if (entry.dtype === 'I32') out.set(name, { shape: entry.shape, data: new Int32Array(slice) });
    else if (entry.dtype === 'F32') out.set(name, { shape: entry.shape, data: new Float32Array(slice) });
  }
  return out;
}

/** Golden prompts of one file: ids and logits [seq × vocab]. */
export function goldenPrompts(file: string): { ids: number[]; logits: Float32Array }[] {
  const tensors = readSafetensors(file);
  const prompts: { ids: number[]; logits: Float32Array }[] = [];
  for (let k = 0; tensors.has(`input_ids_${k}`); k++) {
    prompts.push({ ids: Array.from(tensors.get(`input_ids_${k}`)!.data), logits: tensors.get(`logits_${k}`)!.data as Float32Array });
  }
  return prompts;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertSameLength(a, b);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
}

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32). */
export function randomFloats(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** -log softmax(row)[target] in double, straight from the definition. */
export function nll(row: Float32Array, target: number): number {
  let mx = -Infinity;
  for (const v of row) mx = Math.max(mx, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - mx);
  return Math.log(sum) - (row[target] - mx);
}
