// The estimate's KV cache against what transformers 5.23 holds after a prefill: every layer keeps the whole
// prompt, a sliding-window layer at most window − 1 positions (Gemma 2's alternate layers, Gemma 3's five local
// layers of six, Mistral and Phi-3 on every layer, Qwen2 above max_window_layers). The fixtures' windows are 8,
// so prompts of 1, 7, 8 and 33 tokens fall below, at and past them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { referenceVenv, repoRoot, runPython } from './venv.mjs';

const require = createRequire(import.meta.url);
const venv = referenceVenv();
const compiled = join(repoRoot, 'out', 'native', 'model', 'index.js');
const skip = venv.skip ?? (existsSync(compiled) ? false : 'the TypeScript is not built; run `npm run build` first');
if (skip && process.env.CI === 'true') throw new Error(skip);

const fixtures = [
  'gemma2-random',
  'gemma3-random',
  'phi3-random',
  'mistral-window-random',
  'qwen2-window-random',
  'llama3.2-random',
  'qwen3-random',
];
const batch = 2;
const seqs = [1, 7, 8, 33];

test(
  'the KV cache estimate is the bytes transformers caches after a prefill, sliding windows included',
  { skip, timeout: 600_000 },
  async () => {
    const { estimateMemory, resolveModel } = require(compiled);
    const folders = fixtures.map((f) => join('test', 'fixtures', f));
    const measured = await runPython(venv.python, 'kv_cache_reference.py', { fixtures: folders, batch, seqs });
    for (const folder of folders) {
      const resolved = await resolveModel(join(repoRoot, folder), { env: {} });
      assert.ok(resolved.ok, folder);
      const estimated = Object.fromEntries(
        seqs.map((seq) => {
          const e = estimateMemory(resolved.model, undefined, { batch, seq });
          assert.ok(e.ok, folder);
          return [String(seq), e.value.kvCacheBytes];
        }),
      );
      assert.deepEqual(estimated, measured[folder], folder);
    }
  },
);
