// A model whose weights hold NaN (or whose activations overflow) stops generate with an error naming the
// model, instead of sampling arbitrary tokens from NaN logits — one sequence or a batch (benchmarks), where the
// message names the sequence; `rope_theta: 0` is refused on open.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { readSafetensorsHeader, readTensor, writeSafetensors } from '../../native/lib/io';
import { RuntimeModel } from '../../native/lib/runtime';
import { tinyLlamaDir } from './runtime-fixtures';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

const F16_NAN = 0x7e00;

/** tiny-llama with the tensors `poisoned` picks filled with NaN (or only the rows it lists), and config.json
 *  edited by `config`. */
function variant(poisoned: (name: string) => boolean | number[], config: (c: Record<string, unknown>) => void = () => undefined): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-nonfinite-'));
  dirs.push(dir);
  const cfg = JSON.parse(fs.readFileSync(path.join(tinyLlamaDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  config(cfg);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  const source = path.join(tinyLlamaDir, 'model.safetensors');
  const tensors = readSafetensorsHeader(source).tensors.map((info) => {
    const t = readTensor(source, info.name);
    const rows = poisoned(t.name);
    if (rows === true) {
      assert.equal(t.dtype, 'F16');
      t.data = new Uint16Array(t.data.length).fill(F16_NAN);
    } else if (rows !== false) {
      const width = t.shape[1]!;
      for (const row of rows) (t.data as Uint16Array).fill(F16_NAN, row * width, (row + 1) * width);
    }
    return t;
  });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

test('all-NaN weights: generate stops with an error naming the model, not with tokens', async () => {
  const dir = variant(() => true);
  const tokens: number[] = [];
  await assert.rejects(
    RuntimeModel.open(dir).generateIds([1, 2, 3], { maxTokens: 4 }, (id) => tokens.push(id)),
    (e: Error) => {
      assert.ok(e.message.startsWith(`${dir}: `), e.message);
      assert.match(e.message, /logits are not finite \(nan at vocabulary index 0\) after the prompt; first in the token embeddings;/);
      return true;
    },
  );
  assert.deepEqual(tokens, []);
});

test('one NaN layer norm stops generate, naming the layer; a sound copy still generates', async () => {
  const bad = variant((name) => name === 'model.layers.2.post_attention_layernorm.weight');
  await assert.rejects(
    RuntimeModel.open(bad).generateIds([1, 2, 3], { maxTokens: 4 }),
    /logits are not finite .* after the prompt; first in the output of layer 2 \(model\.layers\.2\)/,
  );
  const sound = variant(() => false);
  const r = await RuntimeModel.open(sound).generateIds([1, 2, 3], { maxTokens: 4 });
  assert.equal(r.tokens.length, 4);
});

test('batched generate and forward stop on non-finite logits, naming the model, the sequence and the first bad stage', async () => {
  const badLayer = RuntimeModel.open(variant((name) => name === 'model.layers.2.post_attention_layernorm.weight'));
  const stage = /are not finite \(nan at vocabulary index 0\) after the prompt; first in the output of layer 2 \(model\.layers\.2\);/;
  const steps: number[] = [];
  await assert.rejects(
    badLayer.generateBatch([1, 2, 3, 4, 5, 6], 2, 4, {}, (done) => steps.push(done)),
    (e: Error) => {
      assert.ok(e.message.startsWith(`${badLayer.folder}: generateBatch: the logits of sequence 0 `), e.message);
      assert.match(e.message, stage);
      return true;
    },
  );
  assert.deepEqual(steps, [], 'no step was taken');
  await assert.rejects(badLayer.forwardBatch([1, 2, 3, 4, 5, 6], 2), (e: Error) => {
    assert.ok(e.message.startsWith(`${badLayer.folder}: forwardBatch: the logits of sequence 0 `), e.message);
    assert.match(e.message, stage);
    return true;
  });

  // One NaN embedding row: only the sequence that reads it goes bad, and it is the one named.
  const badRow = RuntimeModel.open(variant((name) => (name === 'model.embed_tokens.weight' ? [5] : false)));
  await assert.rejects(
    badRow.generateBatch([1, 2, 3, 1, 5, 3], 2, 4),
    /generateBatch: the logits of sequence 1 are not finite \(nan at vocabulary index 0\) after the prompt; first in the token embeddings;/,
  );
  const sound = await badRow.generateBatch([1, 2, 3, 1, 2, 4], 2, 4);
  assert.equal(sound.tokens.length, 8);
});

test('rope_theta: 0, at the top level or in rope_parameters, is refused when the model opens', () => {
  const topLevel = variant(
    () => false,
    (c) => {
      delete c.rope_parameters;
      c.rope_theta = 0;
    },
  );
  assert.throws(() => RuntimeModel.open(topLevel), /`rope_theta` must be a positive number, got 0/);
  const nested = variant(
    () => false,
    (c) => {
      (c.rope_parameters as Record<string, unknown>).rope_theta = 0;
    },
  );
  assert.throws(() => RuntimeModel.open(nested), /`rope_parameters\.rope_theta` must be a positive number, got 0/);
});
