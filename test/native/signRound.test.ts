// Learned rounding (signRound, AutoRound's SignRound) in the engine: the decoder layer's backward pass against finite
// differences on real layers of each Llama-family shape it runs (GQA, biases, q/k norms, llama3 RoPE, a sliding
// window), the families it refuses, and cancel leaving nothing (the tuned demo model: signRoundQuality.test.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { loadAddon } from '../../native/lib/addon';
import { planFromConfig, quantizeModel } from '../../native/lib/quantize';
import { readRuntimeConfigWithText } from '../../native/model';
import { removeTempDirs, tempDir } from './pipeline-fixtures';
import { repoRoot, tinyLlamaDir } from './runtime-fixtures';

after(removeTempDirs);

interface GradientCheck {
  forwardMaxDiff: number;
  outputMaxAbs: number;
  loss: number;
  roles: { role: string; analytic: number; numeric: number }[];
}

const fixture = (name: string): string => path.join(repoRoot, 'test', 'fixtures', name);

/** The engine's block gradient on `layer` of a model, fed `windows` windows of `seqLen` pseudo-random token ids. */
function checkGradient(dir: string, layer: number, windows: number, seqLen: number): GradientCheck {
  const { config: model, text: sourceConfigJson } = readRuntimeConfigWithText(dir);
  const { dataset: _d, ...engine } = planFromConfig({ quant_method: 'gptq', bits: 4, group_size: -1 });
  const ids = Int32Array.from({ length: windows * seqLen }, (_, i) => (i * 7919 + 13) % model.vocabSize);
  const addon = loadAddon() as unknown as { checkBlockGradient: (options: unknown, layer: number) => GradientCheck };
  return addon.checkBlockGradient({ ...engine, source: dir, out: '', model, sourceConfigJson, calibration: ids, seqLen }, layer);
}

for (const [name, dir, layer] of [
  ['tiny-llama (GQA)', tinyLlamaDir, 2],
  ['qwen2-random (q/k/v biases)', fixture('qwen2-random'), 1],
  ['qwen3-random (q/k norms)', fixture('qwen3-random'), 0],
  ['llama3.2-random (llama3 RoPE)', fixture('llama3.2-random'), 1],
  ['mistral-window-random (sliding window 8)', fixture('mistral-window-random'), 0],
] as const) {
  test(`${name}: the layer's forward is the runtime's and its weight gradients match finite differences`, () => {
    const c = checkGradient(dir, layer, 3, 24);
    assert.ok(c.forwardMaxDiff <= 1e-5 * c.outputMaxAbs, `forward differs by ${c.forwardMaxDiff} (outputs up to ${c.outputMaxAbs})`);
    assert.deepEqual(
      c.roles.map((r) => r.role),
      ['q', 'k', 'v', 'o', 'gate', 'up', 'down'],
    );
    const scale = Math.max(...c.roles.map((r) => Math.abs(r.numeric)));
    assert.ok(scale > 1e-6, 'the directional derivatives are not all zero');
    for (const r of c.roles) {
      assert.ok(
        Math.abs(r.analytic - r.numeric) <= 2e-3 * scale,
        `${r.role}: analytic ${r.analytic}, finite differences ${r.numeric} (largest ${scale})`,
      );
    }
  });
}

const tuned = { quant_method: 'gptq', bits: 3, group_size: 128, sym: false, desc_act: false, checkpoint_format: 'gptq_v2' };
const calibration = { nsamples: 16, seqlen: 128 };
const signRound = { iters: 40, batchSize: 4 };

test('refused before any work, naming the reason, on the families the backward pass does not cover; the engine says the same', async () => {
  const addon = loadAddon() as unknown as {
    quantizePipeline: (options: unknown, progress: () => void, cancel: Int32Array) => Promise<unknown>;
  };
  for (const [name, why] of [
    ['mixtral-random', /Mixture-of-Experts/],
    ['phi3-random', /fuses its projections/],
    ['gemma2-random', /sandwich norms/],
    ['opt-random', /not a Llama-family model/],
  ] as const) {
    const out = path.join(tempDir('sign-round-refused'), 'out');
    const config = { quant_method: 'gptq', bits: 4, group_size: 32, sym: true };
    let message = '';
    await assert.rejects(quantizeModel({ model: fixture(name), config, out, signRound }), (e: Error) => {
      message = e.message;
      return /^signRound: /.test(e.message) && why.test(e.message) && /without signRound/.test(e.message);
    });
    // The engine's own check (pipeline.cc Validate), reached past the library's: the same words.
    const { config: model, text: sourceConfigJson } = readRuntimeConfigWithText(fixture(name));
    const { dataset: _d, ...engine } = planFromConfig(config);
    const native = { ...engine, source: fixture(name), out, model, sourceConfigJson, calibration: new Int32Array(32), seqLen: 16 };
    await assert.rejects(
      addon.quantizePipeline({ ...native, signRound: { iters: 2, lr: 0.5, minmaxLr: 0.5, batchSize: 1 } }, () => {}, new Int32Array(1)),
      {
        message,
      },
    );
    assert.equal(fs.existsSync(out), false, `${name}: no output`);
  }
});

test('cancelled while a layer is tuned: AbortError and nothing written', async () => {
  const out = path.join(tempDir('sign-round-cancel'), 'out');
  const controller = new AbortController();
  await assert.rejects(
    quantizeModel(
      { model: tinyLlamaDir, config: tuned, out, calibration, signRound: { iters: 400, batchSize: 4 } },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'round' && p.done >= 2) controller.abort();
        },
      },
    ),
    { name: 'AbortError' },
  );
  assert.equal(fs.existsSync(out), false);
});
