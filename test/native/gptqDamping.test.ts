// GPTQ's automatic damping (GPTQModel 7.7's damp_auto_increment) on layers made ill-conditioned on purpose: 16
// calibration tokens for 256 input features leave every Hessian rank-deficient, and a damp_percent of 1e-9 is too
// little to make its float accumulation positive definite. Each module is then retried with damp_percent raised in
// steps of damp_auto_increment, and the run names every module whose damping was raised and the value used.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { quantizeModel } from '../../native/lib/quantize';
import { folderHash, removeTempDirs, tempDir } from './pipeline-fixtures';
import { tinyLlamaDir } from './runtime-fixtures';
import { LLAMA_LAYER_LINEARS } from '../helpers/llamaLinears';

after(removeTempDirs);

const illConditioned = { nsamples: 1, seqlen: 16 };
const tinyDamp = 1e-9;
const step = 0.0025;
const sourceHash = folderHash(tinyLlamaDir);

function gptq(damping: Record<string, number>) {
  return { quant_method: 'gptq', bits: 4, group_size: 128, ...damping };
}

test('a Hessian that does not factorise gets more damping per module, and the run names each module raised', async () => {
  const out = path.join(tempDir('damp-raised'), 'out');
  const r = await quantizeModel({
    model: tinyLlamaDir,
    config: gptq({ damp_percent: tinyDamp, damp_auto_increment: step }),
    out,
    calibration: illConditioned,
  });
  const raised = r.layers.flatMap((l) => l.raisedDamping ?? []);
  const modules = [0, 1, 2, 3].flatMap((i) => LLAMA_LAYER_LINEARS.map((role) => `model.layers.${i}.${role}`));
  assert.deepEqual(raised.map((d) => d.module).sort(), modules.sort());
  for (const d of raised) {
    const steps = (d.dampPercent - tinyDamp) / step;
    assert.ok(steps >= 1 - 1e-9 && Math.abs(steps - Math.round(steps)) < 1e-9, `${d.module}: ${d.dampPercent}`);
  }
  // Each layer's report holds only its own modules.
  for (const l of r.layers)
    assert.ok(
      (l.raisedDamping ?? []).every((d) => d.module.startsWith(`${l.name}.`)),
      l.name,
    );
  assert.ok(fs.existsSync(path.join(out, 'model.safetensors')));
  assert.equal(folderHash(tinyLlamaDir), sourceHash);
});

test('with damp_auto_increment 0 the same layer fails, naming the module, and leaves nothing behind', async () => {
  const parent = tempDir('damp-fail');
  await assert.rejects(
    quantizeModel({
      model: tinyLlamaDir,
      config: gptq({ damp_percent: tinyDamp, damp_auto_increment: 0 }),
      out: path.join(parent, 'out'),
      calibration: illConditioned,
    }),
    /model\.layers\.0\.self_attn\.q_proj: the layer Hessian is not positive definite even with damp_percent 0\.0000.*raise damp_percent/,
  );
  assert.deepEqual(fs.readdirSync(parent), []);
});

test("the config's own damp_percent factorises the same Hessians: nothing is raised or reported", async () => {
  const r = await quantizeModel({
    model: tinyLlamaDir,
    config: gptq({}),
    out: path.join(tempDir('damp-default'), 'out'),
    calibration: illConditioned,
  });
  assert.deepEqual(
    r.layers.map((l) => l.raisedDamping),
    [undefined, undefined, undefined, undefined],
  );
});
