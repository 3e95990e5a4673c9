// Upstream equivalence: GPTQModel 7.7's GPTQ and AutoAWQ's scale search (re-run in Python on the
// same inputs) versus the engine, on real tiny-llama layers with activations captured by transformers
// from WikiText-2 text (GPTAQ: also those of a model whose layer 0 is quantized). Codes must agree except where float rounding differs at a tie (the mismatch
// fraction is reported and bounded); the engine's ‖WXᵀ − ŴXᵀ‖² must match upstream's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { referenceVenv, repoRoot, runPython } from './venv.mjs';

const require = createRequire(import.meta.url);
const venv = referenceVenv();
const compiledLib = join(repoRoot, 'out', 'native', 'lib');
const built = existsSync(join(compiledLib, 'gptq.js')) && existsSync(join(repoRoot, 'native', 'build', 'Release', 'quantstudio.node'));
const skip = venv.skip ?? (built ? false : 'the engine is not built; run `npm run build` first');
if (skip && process.env.CI === 'true') throw new Error(skip);

const layers = ['model.layers.1.self_attn.q_proj', 'model.layers.2.mlp.down_proj'];
const gptqConfigs = [
  { bits: 4, groupSize: 128, sym: true, descAct: false },
  { bits: 4, groupSize: 128, sym: false, descAct: true },
  { bits: 3, groupSize: 64, sym: false, descAct: false },
  { bits: 4, groupSize: 32, sym: true, descAct: true, staticGroups: true },
  // GPTQModel 7.7's act-group-aware order (GAR) and its mse range search (norm 2.4), alone and together
  { bits: 3, groupSize: 32, sym: true, descAct: false, actGroupAware: true },
  { bits: 3, groupSize: 128, sym: true, descAct: false, mse: 2.4 },
  { bits: 2, groupSize: 64, sym: false, descAct: false, mse: 2.4 },
  { bits: 4, groupSize: 64, sym: false, descAct: false, actGroupAware: true, mse: 2.4 },
  // GPTQModel 7.7's GPTAQ (gptaq: {alpha}) on the inputs a model with a quantized layer 0 gives, alone, with mse, with act-order
  { bits: 3, groupSize: 128, sym: true, descAct: false, gptaqAlpha: 0.25 },
  { bits: 3, groupSize: 128, sym: false, descAct: false, mse: 2.4, gptaqAlpha: 0.25 },
  { bits: 4, groupSize: 128, sym: true, descAct: true, gptaqAlpha: 0.5 },
];
const awqConfig = { bits: 4, groupSize: 128 };
const tokens = 1024;
const window = 256;

const read = (path, Type) => {
  const b = readFileSync(path);
  return new Type(b.buffer, b.byteOffset, b.byteLength / Type.BYTES_PER_ELEMENT);
};

/** ‖XWᵀ − X̂Ŵᵀ‖², X̂ the quantized model's inputs (X itself unless GPTAQ). */
function outputError(x, xHat, n, w, wHat, rows, cols) {
  let total = 0;
  for (let t = 0; t < n; t++) {
    const xt = x.subarray(t * cols, (t + 1) * cols);
    const qt = xHat.subarray(t * cols, (t + 1) * cols);
    for (let r = 0; r < rows; r++) {
      let d = 0;
      for (let c = 0; c < cols; c++) d += xt[c] * w[r * cols + c] - qt[c] * wHat[r * cols + c];
      total += d * d;
    }
  }
  return total;
}

test('GPTQ and AWQ match the upstream libraries on real tiny-llama layers', { skip, timeout: 600_000 }, async (t) => {
  const { gptqQuantize } = require(join(compiledLib, 'gptq.js'));
  const { awqQuantizeLinear, awqSearchScales } = require(join(compiledLib, 'awq.js'));
  const { dequantize } = require(join(compiledLib, 'groupQuantized.js'));
  const out = mkdtempSync(join(tmpdir(), 'qs-gptq-ref-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const summary = await runPython(venv.python, 'gptq_awq_reference.py', {
    model: join(repoRoot, 'examples', 'tiny-llama'),
    text: join(repoRoot, 'examples', 'data', 'wikitext2-valid.txt'),
    out,
    tokens,
    layers,
    gptq: gptqConfigs,
    awq: awqConfig,
  });
  for (const layer of summary.layers) {
    const { rows, cols } = layer;
    const w = read(layer.weight, Float32Array);
    const x = read(layer.activations, Float32Array);
    const xq = layer.driftedActivations ? read(layer.driftedActivations, Float32Array) : x;
    const windows = (a) => {
      const out = [];
      for (let b = 0; b < layer.tokens; b += window) out.push(a.subarray(b * cols, Math.min(b + window, layer.tokens) * cols));
      return out;
    };
    for (const ref of layer.gptq) {
      const gptaq = Boolean(ref.config.gptaqAlpha);
      const started = performance.now();
      const ours = gptaq
        ? await gptqQuantize(w, rows, cols, windows(xq), { ...ref.config, fpActivationBatches: windows(x) })
        : await gptqQuantize(w, rows, cols, windows(x), ref.config);
      const seconds = (performance.now() - started) / 1000;
      const codes = read(ref.codes, Uint8Array);
      let mismatches = 0;
      for (let i = 0; i < codes.length; i++) if (codes[i] !== ours.quantized.q[i]) mismatches++;
      const fraction = mismatches / codes.length;
      const ourError = outputError(x, gptaq ? xq : x, layer.tokens, w, dequantize(ours.quantized), rows, cols);
      const label = `${layer.name} ${JSON.stringify(ref.config)}`;
      t.diagnostic(
        `${label}: code mismatch ${(100 * fraction).toFixed(3)}%, ‖WX−ŴX‖² ours ${ourError.toFixed(4)} ` +
          `upstream ${ref.upstreamError.toFixed(4)} RTN ${ref.rtnError.toFixed(4)}, avg_loss ours ${ours.loss.toExponential(4)} ` +
          `upstream ${ref.avgLoss.toExponential(4)}; time ours ${seconds.toFixed(3)} s upstream ${ref.seconds.toFixed(3)} s`,
      );
      assert.deepEqual(Array.from(ours.quantized.gIdx), Array.from(read(ref.gIdx, Int32Array)), `${label}: g_idx`);
      assert.ok(fraction < 0.01, `${label}: ${mismatches} of ${codes.length} codes differ`);
      assert.ok(Math.abs(ourError - ref.upstreamError) <= 0.02 * ref.upstreamError, `${label}: error ${ourError} vs ${ref.upstreamError}`);
      assert.ok(ourError < ref.rtnError, `${label}: GPTQ must beat RTN`);
      assert.ok(Math.abs(ours.loss - ref.avgLoss) <= 0.02 * ref.avgLoss, `${label}: avg_loss ${ours.loss} vs ${ref.avgLoss}`);
    }
    const ref = layer.awq;
    const started = performance.now();
    const ours = await awqSearchScales([{ weight: w, rows }], cols, x, awqConfig);
    const seconds = (performance.now() - started) / 1000;
    const refScales = read(ref.scales, Float32Array);
    let worst = 0;
    for (let c = 0; c < cols; c++) worst = Math.max(worst, Math.abs(ours.scales[c] - refScales[c]) / refScales[c]);
    const worstLoss = Math.max(...ours.lossByRatio.map((l, i) => Math.abs(l - ref.history[i]) / ref.history[i]));
    t.diagnostic(
      `${layer.name} AWQ: ratio ours ${ours.bestRatio} upstream ${ref.ratio}, loss ours ${ours.bestLoss.toExponential(4)} ` +
        `upstream ${ref.loss.toExponential(4)}, worst loss-curve deviation ${(100 * worstLoss).toFixed(4)}%, worst scale deviation ` +
        `${(100 * worst).toExponential(2)}%; time ours ${seconds.toFixed(3)} s upstream ${ref.seconds.toFixed(3)} s`,
    );
    assert.equal(ours.bestRatio, ref.ratio, `${layer.name}: AWQ ratio`);
    assert.ok(worst < 1e-4, `${layer.name}: AWQ scales deviate by ${worst}`);
    assert.ok(worstLoss < 1e-3, `${layer.name}: AWQ loss curve deviates by ${worstLoss}`);

    // Clip search and final codes, both fed upstream's scales.
    const clipped = await awqQuantizeLinear(w, rows, cols, refScales, x, true, awqConfig);
    const refClip = read(ref.clipMax, Float32Array);
    const refCodes = read(ref.codes, Uint8Array);
    let clipDiffer = 0;
    for (let i = 0; i < refClip.length; i++) if (Math.abs(clipped.clipMax[i] - refClip[i]) > 1e-6 * refClip[i]) clipDiffer++;
    let codeDiffer = 0;
    for (let i = 0; i < refCodes.length; i++) if (refCodes[i] !== clipped.quantized.q[i]) codeDiffer++;
    t.diagnostic(
      `${layer.name} AWQ clip: ${clipDiffer} of ${refClip.length} group bounds differ, ` +
        `code mismatch ${((100 * codeDiffer) / refCodes.length).toFixed(3)}%`,
    );
    assert.ok(clipDiffer <= 0.01 * refClip.length, `${layer.name}: ${clipDiffer} clip bounds differ`);
    assert.ok(codeDiffer <= 0.01 * refCodes.length, `${layer.name}: ${codeDiffer} AWQ codes differ`);
  }
});
