// Merge then quantize's merge against PEFT 0.21.2's own: merge_and_unload() of each fixture adapter on the demo
// model gives, module by module, the fp32 weights the engine merges (W + scale·B·A) within fp32 rounding, and the
// merged model's logits equal the engine's with the adapter applied at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { referenceVenv, repoRoot, runPython } from './venv.mjs';

const require = createRequire(import.meta.url);
const venv = referenceVenv();
const compiled = join(repoRoot, 'out', 'native', 'lib', 'index.js');
const skip = venv.skip ?? (existsSync(compiled) ? false : 'the TypeScript is not built; run `npm run build` first');
if (skip && process.env.CI === 'true') throw new Error(skip);

const model = join(repoRoot, 'examples', 'tiny-llama');
const ids = [146, 230, 89, 1000, 7, 2048, 3, 311];

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

for (const name of ['tiny-llama-r8', 'tiny-llama-patterns'])
  test(`the engine's merge of ${name} equals PEFT's merge_and_unload within fp32 rounding`, { skip, timeout: 600_000 }, async () => {
    const { mergeLoraWeight, readLoraAdapter, readTensorFloat32, RuntimeModel } = require(compiled);
    const adapterDir = join(repoRoot, 'test', 'fixtures', 'lora', name);
    const scratch = mkdtempSync(join(tmpdir(), 'qs-lora-merge-'));
    try {
      const out = join(scratch, 'merged.safetensors');
      const { modules } = await runPython(venv.python, 'lora_merge_reference.py', { model, adapter: adapterDir, out, ids });
      const adapter = readLoraAdapter(adapterDir);
      assert.deepEqual(modules, adapter.modules.map((m) => m.name).sort());
      let worst = 0;
      for (const module of modules) {
        const { shape, data } = readTensorFloat32(join(model, 'model.safetensors'), `${module}.weight`);
        const ours = mergeLoraWeight(adapter, module, data, shape[0], shape[1]);
        const theirs = readTensorFloat32(out, module).data;
        const err = maxAbsDiff(ours, theirs);
        worst = Math.max(worst, err);
        assert.ok(err < 1e-6, `${module}: max |ΔW| ${err}`);
      }
      const logits = await RuntimeModel.open(model, { adapter: adapterDir }).logits(ids);
      const err = maxAbsDiff(logits, readTensorFloat32(out, 'logits').data);
      assert.ok(err < 1e-4, `merged model's logits vs the engine with the adapter: max |Δlogit| ${err}`);
      console.log(`${name}: ${modules.length} modules, max |ΔW| ${worst}, max |Δlogit| ${err}`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
