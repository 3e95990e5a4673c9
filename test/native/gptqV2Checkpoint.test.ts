// A GPTQ job with checkpoint_format "gptq_v2" writes GPTQModel's format v2: the zero points stored as they are, every
// other tensor byte for byte what the v1 job writes, both config keys saying so, and a checkpoint the runtime runs to
// the v1 one's logits. GPTQModel 7.7 loads asymmetric checkpoints only in v2 (test/reference/checkpoint-load).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { unpackLayer } from '../../native/lib/formats';
import { readTensor } from '../../native/lib/io';
import { quantizeModel } from '../../native/lib/quantize';
import { openModel } from '../../native/lib/runtime';
import { folderHash, removeTempDirs, tempDir, tensorTable } from './pipeline-fixtures';
import { tinyLlamaDir } from './runtime-fixtures';

after(removeTempDirs);

const calibration = { nsamples: 4, seqlen: 128, seed: 0 };
const config = { quant_method: 'gptq', bits: 3, group_size: 128, sym: false, mse: 2.4 };
const ids = [1, 450, 3996, 1735, 1701, 432, 1720, 975, 278, 1736, 1120, 2988];
const weights = (folder: string) => path.join(folder, 'model.safetensors');

test('checkpoint_format gptq_v2: zero points as they are, the rest as v1, the same logits', async () => {
  const sourceHash = folderHash(tinyLlamaDir);
  const v1 = path.join(tempDir('gptq-v1'), 'out');
  const v2 = path.join(tempDir('gptq-v2'), 'out');
  await quantizeModel({ model: tinyLlamaDir, config, out: v1, calibration });
  await quantizeModel({ model: tinyLlamaDir, config: { ...config, checkpoint_format: 'gptq_v2' }, out: v2, calibration });

  const written = JSON.parse(fs.readFileSync(path.join(v2, 'config.json'), 'utf8')).quantization_config;
  assert.deepEqual([written.checkpoint_format, written.format, written.sym], ['gptq_v2', 'gptq_v2', false]);
  const side = JSON.parse(fs.readFileSync(path.join(v2, 'quantize_config.json'), 'utf8'));
  assert.deepEqual([side.checkpoint_format, side.format], ['gptq_v2', 'gptq_v2']);

  assert.deepEqual(tensorTable(v2), tensorTable(v1));
  const layer = 'model.layers.2.mlp.down_proj';
  for (const part of ['qweight', 'scales', 'g_idx'])
    assert.deepEqual(readTensor(weights(v2), `${layer}.${part}`).data, readTensor(weights(v1), `${layer}.${part}`).data, part);
  const fromV1 = unpackLayer('gptq', v1, layer, { bits: 3, groupSize: 128 });
  const fromV2 = unpackLayer('gptq', v2, layer, { bits: 3, groupSize: 128, v2Zeros: true });
  assert.deepEqual(fromV2, fromV1);
  // Asymmetric 3-bit zero points span 0..7: v1 stores zero − 1, so the two qzeros differ.
  assert.notDeepEqual(readTensor(weights(v2), `${layer}.qzeros`).data, readTensor(weights(v1), `${layer}.qzeros`).data);

  const [a, b] = await Promise.all([openModel(v1).logits(ids), openModel(v2).logits(ids)]);
  assert.deepEqual(b, a);
  assert.equal(folderHash(tinyLlamaDir), sourceHash);
});

test('a checkpoint format the pipeline does not write is refused at its key, before any work', async () => {
  const parent = tempDir('gptq-marlin');
  await assert.rejects(
    quantizeModel({ model: tinyLlamaDir, config: { ...config, format: 'marlin' }, out: path.join(parent, 'out'), calibration }),
    /quantization_config\.format: "marlin" is not written; the pipeline writes "gptq" or "gptq_v2"/,
  );
  assert.deepEqual(fs.readdirSync(parent), []);
});
