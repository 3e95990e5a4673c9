// Model resolution from local folders and the Hugging Face cache: safetensors headers only, validated.
import assert from 'node:assert/strict';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  closeSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MAX_HEADER_BYTES, readLocalHeader, readLocalModel, resolveModel } from '../../../native/model';
import type { ModelError } from '../../../native/model';
import { ModelErrorException } from '../../../native/model/errors';

const repo = join(__dirname, '..', '..', '..', '..');
const tinyLlama = join(repo, 'examples', 'tiny-llama');
const qwen2 = join(repo, 'test', 'fixtures', 'qwen2-random');
const sharded = join(repo, 'test', 'fixtures', 'hub', 'sharded-qwen2');
const temp = mkdtempSync(join(tmpdir(), 'qs-model-'));
after(() => rmSync(temp, { recursive: true, force: true }));

/** The header length prefix, read independently of the code under test. */
function headerLengthOf(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(8);
  readSync(fd, buf, 0, 8, 0);
  closeSync(fd);
  return Number(buf.readBigUInt64LE(0));
}

async function errorOf(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ModelErrorException) return e.error;
    throw e;
  }
  assert.fail('expected a ModelError');
}

/** A safetensors file from a raw header string and a data buffer length. */
function writeSafetensors(name: string, header: string, dataBytes: number, lengthOverride?: bigint): string {
  const path = join(temp, name);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(lengthOverride ?? BigInt(Buffer.byteLength(header)));
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header), Buffer.alloc(dataBytes)]));
  return path;
}

describe('local folder: examples/tiny-llama', () => {
  const config = JSON.parse(readFileSync(join(tinyLlama, 'config.json'), 'utf8')) as Record<string, number>;
  const hidden = config['hidden_size']!;
  const headDim = config['head_dim']!;
  const kvWidth = config['num_key_value_heads']! * headDim;
  const inter = config['intermediate_size']!;
  const vocab = config['vocab_size']!;
  const layers = config['num_hidden_layers']!;

  it('lists every tensor with its shape, from the header alone', async () => {
    const { tensors, config: read } = await readLocalModel(tinyLlama);
    assert.equal(read['model_type'], 'llama');
    // embeddings + lm_head + final norm, and per layer 7 Linears + 2 norms
    assert.equal(tensors.length, 3 + layers * 9);
    const shape = (name: string): number[] | undefined => tensors.find((t) => t.name === name)?.shape;
    assert.deepEqual(shape('model.embed_tokens.weight'), [vocab, hidden]);
    assert.deepEqual(shape('lm_head.weight'), [vocab, hidden]);
    assert.deepEqual(shape('model.layers.0.self_attn.q_proj.weight'), [config['num_attention_heads']! * headDim, hidden]);
    assert.deepEqual(shape('model.layers.3.self_attn.k_proj.weight'), [kvWidth, hidden]);
    assert.deepEqual(shape('model.layers.2.mlp.down_proj.weight'), [hidden, inter]);
    assert.deepEqual(shape('model.layers.1.post_attention_layernorm.weight'), [hidden]);
    assert.ok(tensors.every((t) => t.dtype === 'F16' && t.file === 'model.safetensors'));
  });

  it('tensor bytes add up to the file size minus the header', async () => {
    const file = join(tinyLlama, 'model.safetensors');
    const { tensors } = await readLocalModel(tinyLlama);
    const total = tensors.reduce((a, t) => a + t.bytes, 0);
    assert.equal(total, statSync(file).size - 8 - headerLengthOf(file));
  });
});

describe('local folder: sharded checkpoint', () => {
  it('reads every shard named by model.safetensors.index.json', async () => {
    const { tensors } = await readLocalModel(sharded);
    const single = await readLocalModel(qwen2);
    const index = JSON.parse(readFileSync(join(sharded, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    assert.equal(tensors.length, Object.keys(index.weight_map).length);
    assert.deepEqual(
      new Set(tensors.map((t) => t.file)),
      new Set(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']),
    );
    for (const t of tensors) assert.equal(t.file, index.weight_map[t.name], t.name);
    // Same tensors as the unsharded original.
    const byName = (ts: typeof tensors) =>
      ts.map(({ name, dtype, shape, bytes }) => ({ name, dtype, shape, bytes })).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(byName(tensors), byName(single.tensors));
  });

  it('rejects an index naming a shard outside the folder, and one listing a tensor no shard has', async () => {
    const bad = join(temp, 'bad-index');
    cpSync(sharded, bad, { recursive: true });
    const indexPath = join(bad, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map: Record<string, string> };
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, 'x.weight': '../evil.safetensors' } }));
    const unsafe = await errorOf(readLocalModel(bad));
    assert.equal(unsafe.code, 'invalid');
    assert.match(unsafe.message, /x\.weight.*unsafe/);
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, 'ghost.weight': 'model-00001-of-00002.safetensors' } }));
    const missing = await errorOf(readLocalModel(bad));
    assert.equal(missing.code, 'invalid');
    assert.match(missing.message, /ghost\.weight/);
  });
});

describe('safetensors header validation', () => {
  const entry = (dtype: string, shape: number[], offsets: [number, number]): string =>
    JSON.stringify({ w: { dtype, shape, data_offsets: offsets } });

  it('accepts a well-formed header', async () => {
    const tensors = await readLocalHeader(writeSafetensors('ok.safetensors', entry('F32', [2, 3], [0, 24]), 24), 'ok.safetensors');
    assert.deepEqual(tensors, [{ name: 'w', dtype: 'F32', shape: [2, 3], bytes: 24, file: 'ok.safetensors', offset: 0 }]);
  });

  const cases: Array<[string, () => string, RegExp]> = [
    ['a header length over the cap', () => writeSafetensors('cap.safetensors', '{}', 0, BigInt(MAX_HEADER_BYTES + 1)), /header length/],
    ['a header longer than the file', () => writeSafetensors('long.safetensors', '{}', 0, 4096n), /past the end/],
    ['a header that is not JSON', () => writeSafetensors('json.safetensors', '{"w": ', 0), /not valid JSON/],
    ['a header that is a JSON array', () => writeSafetensors('array.safetensors', '[]', 0), /not a JSON object/],
    ['an unknown dtype', () => writeSafetensors('dtype.safetensors', entry('F12', [1], [0, 2]), 2), /unknown dtype/],
    [
      'offsets past the data buffer',
      () => writeSafetensors('past.safetensors', entry('F32', [2, 3], [0, 24]), 20),
      /outside the 20-byte data buffer/,
    ],
    [
      'offsets that disagree with the shape',
      () => writeSafetensors('span.safetensors', entry('F32', [2, 3], [0, 20]), 24),
      /24 bytes but data_offsets span 20/,
    ],
    ['a negative dimension', () => writeSafetensors('neg.safetensors', entry('F32', [-1], [0, 4]), 4), /shape/],
  ];
  for (const [what, make, message] of cases) {
    it(`rejects ${what}`, async () => {
      const error = await errorOf(readLocalHeader(make(), 'x'));
      assert.equal(error.code, 'invalid');
      assert.match(error.message, message);
    });
  }
});

describe('resolveModel: folders and the Hugging Face cache', () => {
  it('resolves a relative folder against baseDir', async () => {
    const result = await resolveModel('examples/tiny-llama', { baseDir: repo, env: {} });
    assert.ok(result.ok);
    assert.equal(result.model.source, 'local');
    assert.equal(result.model.folder, tinyLlama);
    assert.equal(result.model.revision, undefined);
  });

  it('reports a missing folder as not-found, without asking the Hub', async () => {
    const result = await resolveModel('./no/such/model', { baseDir: temp, env: {} });
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'not-found');
    assert.equal(result.error.where, join(temp, 'no', 'such', 'model'));
  });

  it('finds a hub id in HF_HUB_CACHE through refs/main → snapshots/<commit>', async () => {
    const cache = join(temp, 'hf-cache');
    const commit = 'a'.repeat(40);
    const repoDir = join(cache, 'models--test-org--tiny-llama');
    const snapshot = join(repoDir, 'snapshots', commit);
    mkdirSync(join(repoDir, 'refs'), { recursive: true });
    mkdirSync(join(repoDir, 'blobs'), { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(join(repoDir, 'refs', 'main'), commit);
    // Snapshot files are symlinks into blobs/, as huggingface_hub lays them out.
    for (const file of ['config.json', 'model.safetensors']) {
      const blob = join(repoDir, 'blobs', `blob-${file}`);
      cpSync(join(tinyLlama, file), blob);
      symlinkSync(join('..', '..', 'blobs', `blob-${file}`), join(snapshot, file));
    }
    const byRef = await resolveModel('test-org/tiny-llama', { env: { HF_HUB_CACHE: cache }, endpoint: 'http://127.0.0.1:9' });
    assert.ok(byRef.ok);
    assert.equal(byRef.model.source, 'hf-cache');
    assert.equal(byRef.model.revision, commit);
    assert.equal(byRef.model.tensors.length, (await readLocalModel(tinyLlama)).tensors.length);
    // HF_HOME/hub is the fallback location, and a commit hash names the snapshot directly.
    const home = join(temp, 'hf-home');
    mkdirSync(home);
    cpSync(cache, join(home, 'hub'), { recursive: true, verbatimSymlinks: true });
    const byCommit = await resolveModel('test-org/tiny-llama', {
      env: { HF_HOME: home },
      revision: commit,
      endpoint: 'http://127.0.0.1:9',
    });
    assert.ok(byCommit.ok);
    assert.equal(byCommit.model.folder, join(home, 'hub', 'models--test-org--tiny-llama', 'snapshots', commit));
  });
});
