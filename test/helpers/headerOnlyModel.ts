// Header-only copies of real checkpoints (test/fixtures/big-models/<name>): the real config.json and every tensor's
// name, dtype and shape, written into a folder as model.safetensors.index.json plus shards whose headers are
// valid and whose data is a hole (a sparse file), so readers that check data_offsets against the file size
// accept them while a 141 GB model takes a few hundred kB of disk.
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const bigModelsDir = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'big-models');

type Shape = number[];
interface Description {
  dtype: 'BF16';
  before: Array<[string, Shape]>;
  /** Per decoder layer, `{N}` in a name expands to 0 … N−1 (experts). */
  layers: { count: number; prefix: string; tensors: Array<[string, Shape]> };
  after: Array<[string, Shape]>;
}

export interface BigTensor {
  name: string;
  shape: Shape;
  bytes: number;
}

/** transformers' save_pretrained shards at 5 GB (huggingface_hub split_torch_state_dict_into_shards). */
const MAX_SHARD_BYTES = 5_000_000_000;
const BF16_BYTES = 2;

/** The tensors of a description in checkpoint order (embeddings, layer by layer, final norm, lm_head). */
export function bigModelTensors(name: string): BigTensor[] {
  const d = JSON.parse(readFileSync(join(bigModelsDir, name, 'tensors.json'), 'utf8')) as Description;
  const out: BigTensor[] = [];
  const add = (n: string, shape: Shape): void => {
    out.push({ name: n, shape, bytes: shape.reduce((a, b) => a * b, 1) * BF16_BYTES });
  };
  for (const [n, s] of d.before) add(n, s);
  for (let layer = 0; layer < d.layers.count; layer++) {
    for (const [n, s] of d.layers.tensors) {
      const count = /\{(\d+)\}/.exec(n);
      const names = count ? Array.from({ length: Number(count[1]) }, (_, e) => n.replace(count[0], String(e))) : [n];
      for (const each of names) add(`${d.layers.prefix}${layer}.${each}`, s);
    }
  }
  for (const [n, s] of d.after) add(n, s);
  return out;
}

function shardName(i: number, n: number): string {
  return `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
}

/** Writes the model folder `<dir>/<name>` (config.json, index, sparse shards) and returns its path. */
export function writeHeaderOnlyModel(name: string, dir: string): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(bigModelsDir, name, 'config.json'), join(folder, 'config.json'));
  const shards: BigTensor[][] = [[]];
  let size = 0;
  for (const t of bigModelTensors(name)) {
    if (size > 0 && size + t.bytes > MAX_SHARD_BYTES) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += t.bytes;
  }
  const weightMap: Record<string, string> = {};
  let total = 0;
  shards.forEach((tensors, i) => {
    const file = shardName(i, shards.length);
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const t of tensors) {
      header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + t.bytes] };
      offset += t.bytes;
      weightMap[t.name] = file;
    }
    total += offset;
    // safetensors pads the header with spaces to a multiple of 8 bytes.
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    const fd = openSync(join(folder, file), 'w');
    try {
      writeSync(fd, prefix);
      writeSync(fd, json);
      ftruncateSync(fd, 8 + json.length + offset);
    } finally {
      closeSync(fd);
    }
  });
  writeFileSync(
    join(folder, 'model.safetensors.index.json'),
    `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`,
  );
  return folder;
}
