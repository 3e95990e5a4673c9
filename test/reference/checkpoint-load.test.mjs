// Whole checkpoints the engine writes load in the upstream loaders and give our runtime's logits.
// examples/tiny-llama is quantized into every format; checkpoint_load_reference.py loads each folder with
// transformers 5.23 on CPU (bitsandbytes 0.50 / GPTQModel 7.7 kernels underneath), falling back to GPTQModel's
// own loader, then to its per-layer dequantize, where the loader in front refuses. Every quantized Linear the
// loader holds must dequantize to exactly our weights, and its fp32 logits must match the runtime's.
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
const addon = process.env.QUANTSTUDIO_ADDON ?? join(repoRoot, 'native', 'build', 'Release', 'quantstudio.node');
const built = ['quantize.js', 'runtime.js', 'formats.js'].every((f) => existsSync(join(compiledLib, f))) && existsSync(addon);
const skip = venv.skip ?? (built ? false : 'the engine is not built; run `npm run build` first');
if (skip && process.env.CI === 'true') throw new Error(skip);

const model = join(repoRoot, 'examples', 'tiny-llama');
const calibration = { nsamples: 8, seqlen: 64 };
const gptqRefused = 'transformers: ImportError: Loading a GPTQ quantized model requires optimum';
const gptqAsymRefused = 'gptqmodel: ValueError: Format: Loading of a sym=False model with format=FORMAT.GPTQ is only supported';
// The quality table's mixed-precision recipe: layer 0 at 4 bits, the rest 3-bit asymmetric with the mse search.
const asymMseLayer0 = {
  quant_method: 'gptq',
  bits: 3,
  group_size: 128,
  sym: false,
  desc_act: false,
  mse: 2.4,
  dynamic: { '+:model\\.layers\\.0\\..*': { bits: 4 } },
};

// `loader`/`refused`: what the pinned upstream stack does with each checkpoint (a change there must be noticed).
// `linear`: the class every kernel of that path derives from, not the kernel itself: GPTQModel 7.7 picks its kernel
// by the CPU's features (TorchAtenAwqLinear on AVX2, TorchCpuAvx512AwqLinear on AVX-512), and all of its AWQ kernels
// derive from AWQuantLinear, its GPTQ kernels from GPTQQuantLinear.
// transformers needs optimum for GPTQ, which the pinned stack does not carry; GPTQModel's own loader takes
// sym=True v1 checkpoints but refuses sym=False ones unless its own version stamp is in the config's meta.
// `tolerance`: max |Δlogit| / max |logit|. The unquantized model (first row) sets the floor: the runtime and
// transformers' fp32 Llama differ by fp32 rounding alone (sum order, kernels; measured ≤ 1.3e-4).
// GPTQ/AWQ upstream dequantize in the scales' fp16 (we keep the exact fp32 products): measured ≤ 3.1e-4.
// bitsandbytes 4-bit dequantizes to exactly our fp32 weights: measured ≤ 1.5e-4. LLM.int8's CPU matmul casts
// activations to fp16 and quantizes them to int8 per row (outlier columns aside), the runtime keeps them fp32
// (native/src/runtime/linear_int8.cc): measured ≤ 1.4e-2, with the argmax moving at 2 of 167 positions.
// `bf16Tolerance`: on CPUs with AVX512-BF16, bitsandbytes 0.50's fused CPU 4-bit kernel computes with activations
// and absmax cast to bf16 (8 significant bits) while its weights still dequantize to exactly ours: measured ≤ 6.1e-3.
const cases = [
  { name: 'unquantized-fp16', format: 'none', loader: 'transformers', linear: 'Linear', refused: [], tolerance: 3e-4 },
  {
    name: 'gptq-4bit-g128-sym',
    format: 'gptq',
    algorithm: 'rtn',
    config: { quant_method: 'gptq', bits: 4, group_size: 128, sym: true, desc_act: false },
    loader: 'gptqmodel',
    linear: 'GPTQQuantLinear',
    refused: [gptqRefused],
    tolerance: 5e-4,
  },
  {
    name: 'gptq-4bit-g128-asym-act-order',
    format: 'gptq',
    algorithm: 'gptq',
    config: { quant_method: 'gptq', bits: 4, group_size: 128, sym: false, desc_act: true },
    loader: 'transformers-llama+gptqmodel-dequantize',
    linear: 'Linear',
    refused: [gptqRefused, gptqAsymRefused],
    tolerance: 5e-4,
  },
  {
    name: 'gptq-3bit-g128-sym',
    format: 'gptq',
    algorithm: 'rtn',
    config: { quant_method: 'gptq', bits: 3, group_size: 128, sym: true, desc_act: false },
    loader: 'gptqmodel',
    linear: 'GPTQQuantLinear',
    refused: [gptqRefused],
    tolerance: 5e-4,
  },
  {
    // The low-bit rows of the quality table: GPTQModel 7.7's mse range search, act-group-aware order (the default)
    name: 'gptq-2bit-g64-sym-mse',
    format: 'gptq',
    algorithm: 'gptq',
    config: { quant_method: 'gptq', bits: 2, group_size: 64, sym: true, desc_act: false, mse: 2.4 },
    loader: 'gptqmodel',
    linear: 'GPTQQuantLinear',
    refused: [gptqRefused],
    tolerance: 5e-4,
  },
  {
    name: 'gptq-3bit-g128-asym-mse-layer0-4bit',
    format: 'gptq',
    algorithm: 'gptq',
    config: asymMseLayer0,
    loader: 'transformers-llama+gptqmodel-dequantize',
    linear: 'Linear',
    refused: [gptqRefused, gptqAsymRefused],
    tolerance: 5e-4,
  },
  {
    // The same recipe with GPTAQ, written in GPTQModel's format v2: its own loader takes the asymmetric checkpoint.
    name: 'gptq-3bit-g128-asym-mse-gptaq-layer0-4bit-v2',
    format: 'gptq',
    algorithm: 'gptq',
    config: { ...asymMseLayer0, gptaq: { alpha: 0.5 }, checkpoint_format: 'gptq_v2' },
    loader: 'gptqmodel',
    linear: 'GPTQQuantLinear',
    refused: [gptqRefused],
    tolerance: 5e-4,
  },
  {
    // Learned rounding (signRound), 3-bit asymmetric in format v2: GPTQ's tensors with the learned codes and ranges.
    name: 'gptq-3bit-g128-asym-signround-v2',
    format: 'gptq',
    algorithm: 'gptq',
    config: { quant_method: 'gptq', bits: 3, group_size: 128, sym: false, desc_act: false, checkpoint_format: 'gptq_v2' },
    signRound: { iters: 20, batchSize: 4 },
    loader: 'gptqmodel',
    linear: 'GPTQQuantLinear',
    refused: [gptqRefused],
    tolerance: 5e-4,
  },
  {
    // GPTQModel 7.7's per-module overrides written by the engine: down_proj 8-bit g64, layer 0's o_proj left dense.
    name: 'gptq-dynamic-mixed',
    format: 'gptq',
    algorithm: 'gptq',
    config: {
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      sym: true,
      desc_act: false,
      dynamic: { '+:.*mlp\\.down_proj': { bits: 8, group_size: 64 }, '-:model\\.layers\\.0\\.self_attn\\.o_proj': {} },
    },
    loader: 'gptqmodel',
    linear: 'GPTQQuantLinear',
    refused: [gptqRefused],
    tolerance: 5e-4,
    quantizedLinears: 4 * 7 - 1,
  },
  {
    name: 'awq-gemm-4bit-g128',
    format: 'awq-gemm',
    algorithm: 'awq',
    config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' },
    loader: 'transformers',
    linear: 'AWQuantLinear',
    refused: [],
    tolerance: 5e-4,
  },
  {
    name: 'bnb-nf4-double-quant',
    format: 'bnb4',
    config: {
      quant_method: 'bitsandbytes',
      load_in_4bit: true,
      bnb_4bit_quant_type: 'nf4',
      bnb_4bit_use_double_quant: true,
      bnb_4bit_compute_dtype: 'float32',
    },
    loader: 'transformers',
    linear: 'Linear4bit',
    refused: [],
    tolerance: 3e-4,
    bf16Tolerance: 1.5e-2,
    bf16ArgmaxMisses: 4,
  },
  {
    name: 'bnb-fp4',
    format: 'bnb4',
    config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'fp4', bnb_4bit_compute_dtype: 'float32' },
    loader: 'transformers',
    linear: 'Linear4bit',
    refused: [],
    tolerance: 3e-4,
    bf16Tolerance: 1.5e-2,
    bf16ArgmaxMisses: 4,
  },
  {
    name: 'bnb-int8',
    format: 'bnb8',
    config: { quant_method: 'bitsandbytes', load_in_8bit: true },
    loader: 'transformers',
    linear: 'Linear8bitLt',
    refused: [],
    tolerance: 2.5e-2,
    argmaxMisses: 4,
  },
];

/** Token sequences of WikiText-2 text, 7, 64 and 96 tokens long. */
function sequences(tokenizer) {
  const text = readFileSync(join(repoRoot, 'examples', 'data', 'wikitext2-valid.txt'), 'utf8');
  const ids = tokenizer.encode(text.slice(0, 4000));
  return [ids.slice(0, 7), ids.slice(100, 164), ids.slice(300, 396)];
}

/**
 * `index: theirs vs ours` of the first differing value and how many differ, or undefined when identical as numbers:
 * −0 equals +0. FP4's code 0b1000 is "−0": bitsandbytes 0.50's AVX-512 CPU dequantize returns −0 × absmax = −0 for
 * it, its other paths and the engine +0; both are zero in every product and sum.
 */
function firstDifference(theirs, ours) {
  let first;
  let count = 0;
  for (let i = 0; i < ours.length; i++) {
    if (theirs[i] === ours[i] || Object.is(theirs[i], ours[i])) continue;
    first ??= i;
    count++;
  }
  return first === undefined && theirs.length === ours.length
    ? undefined
    : `${count} of ${ours.length} differ, first at ${first}: ${theirs[first]} vs ${ours[first]}`;
}

/** Logit differences and argmax agreement per position. A position whose two candidates are closer upstream than
 *  twice that row's largest |Δlogit| is a near-tie, not a miss: each side's logits moved by at most that much, so
 *  such a pair can swap on rounding alone (float summation order, fp16 dequantization). */
function compareLogits(ours, theirs, vocab) {
  let maxAbs = 0;
  let scale = 0;
  let argmaxAgree = 0;
  let nearTies = 0;
  const positions = theirs.length / vocab;
  for (let p = 0; p < positions; p++) {
    let ourBest = 0;
    let theirBest = 0;
    let rowMaxAbs = 0;
    for (let v = 0; v < vocab; v++) {
      const i = p * vocab + v;
      rowMaxAbs = Math.max(rowMaxAbs, Math.abs(ours[i] - theirs[i]));
      scale = Math.max(scale, Math.abs(theirs[i]));
      if (ours[i] > ours[p * vocab + ourBest]) ourBest = v;
      if (theirs[i] > theirs[p * vocab + theirBest]) theirBest = v;
    }
    maxAbs = Math.max(maxAbs, rowMaxAbs);
    if (ourBest === theirBest) argmaxAgree++;
    else if (theirs[p * vocab + theirBest] - theirs[p * vocab + ourBest] <= 2 * rowMaxAbs) nearTies++;
  }
  return { maxAbs, scale, argmaxAgree, nearTies, positions };
}

test("checkpoints the engine writes load upstream whole and give the runtime's logits", { skip, timeout: 600_000 }, async (t) => {
  const { quantizeModel } = require(join(compiledLib, 'quantize.js'));
  const { RuntimeModel } = require(join(compiledLib, 'runtime.js'));
  const { TextTokenizer } = require(join(compiledLib, 'tokenizer.js'));
  const formats = require(join(compiledLib, 'formats.js'));
  const quant = require(join(compiledLib, 'quant.js'));
  const io = require(join(compiledLib, 'io.js'));
  const model_ = require(join(repoRoot, 'out', 'native', 'model', 'index.js'));
  const dir = mkdtempSync(join(tmpdir(), 'qs-checkpoint-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of cases) {
    c.out = join(dir, `${c.name}.upstream.safetensors`);
    if (c.format === 'none') {
      c.folder = model;
      continue;
    }
    c.folder = join(dir, c.name);
    await quantizeModel({ model, config: c.config, algorithm: c.algorithm, out: c.folder, calibration, signRound: c.signRound });
  }
  const ids = sequences(TextTokenizer.load(model));
  const reply = await runPython(venv.python, 'checkpoint_load_reference.py', {
    ids,
    cases: cases.map(({ name, folder, format, out }) => ({ name, folder, format, out })),
  });

  const f16 = (a) => io.f16ToF32(io.f32ToF16(a));
  for (const c of cases) {
    const got = reply.cases[c.name];
    assert.equal(got.loader, c.loader, `${c.name}: loader (refused: ${got.refused.join(' | ')})`);
    assert.ok(got.linearBases.includes(c.linear), `${c.name}: ${got.linear} (${got.linearBases.join(' < ')}) is not a ${c.linear}`);
    assert.equal(got.refused.length, c.refused.length, `${c.name}: refusals ${JSON.stringify(got.refused)}`);
    c.refused.forEach((expected, i) => assert.ok(got.refused[i].startsWith(expected), `${c.name}: ${got.refused[i]}`));

    // Every quantized Linear the upstream loader holds, dequantized by its own code in the dtype it computes in,
    // equals ours rounded once to that dtype (GPTQModel and AutoAWQ's dequantize run in the scales' fp16).
    const layers = io
      .readSafetensorsHeader(c.out)
      .tensors.map((info) => info.name)
      .filter((n) => !n.startsWith('logits.'));
    assert.equal(layers.length, c.format === 'none' ? 0 : (c.quantizedLinears ?? 4 * 7), `${c.name}: quantized Linear count`);
    // A module's own bits and group size: its dynamic key's, else the config's.
    const rules = model_.dynamicRules(c.config?.dynamic);
    const unpackOptions = (layer) => {
      const own = { ...c.config, ...model_.dynamicRuleFor(rules, layer)?.overrides };
      return c.format === 'gptq'
        ? { bits: own.bits, groupSize: own.group_size, v2Zeros: c.config.checkpoint_format === 'gptq_v2' }
        : { groupSize: own.group_size };
    };
    const dtypes = new Set();
    for (const layer of layers) {
      const theirs = io.readTensor(c.out, layer);
      const ours = quant.dequantize(formats.unpackLayer(c.format, c.folder, layer, unpackOptions(layer)));
      assert.ok(theirs.dtype === 'F16' || theirs.dtype === 'F32', `${c.name}: ${layer} is ${theirs.dtype}`);
      const [expected, got] = theirs.dtype === 'F16' ? [f16(ours), io.f16ToF32(theirs.data)] : [ours, theirs.data];
      assert.deepEqual(theirs.shape, [ours.length / theirs.shape[1], theirs.shape[1]], `${c.name}: ${layer} shape`);
      assert.equal(firstDifference(got, expected), undefined, `${c.name}: ${layer} dequantized (${theirs.dtype})`);
      dtypes.add(theirs.dtype);
    }

    const bf16 = reply.bnb4Bf16 && c.bf16Tolerance !== undefined;
    const tolerance = bf16 ? c.bf16Tolerance : c.tolerance;
    const argmaxMisses = (bf16 ? c.bf16ArgmaxMisses : c.argmaxMisses) ?? 0;
    const runtime = RuntimeModel.open(c.folder);
    const vocab = runtime.config.vocabSize;
    const figures = [];
    for (const [i, seq] of ids.entries()) {
      const theirs = io.readTensor(c.out, `logits.${i}`);
      const r = compareLogits(await runtime.logits(seq), theirs.data, vocab);
      figures.push(r);
      assert.ok(r.maxAbs <= tolerance * r.scale, `${c.name}, sequence ${i}: max |Δlogit| ${r.maxAbs} > ${tolerance} × ${r.scale}`);
    }
    const maxAbs = Math.max(...figures.map((r) => r.maxAbs));
    const relative = Math.max(...figures.map((r) => r.maxAbs / r.scale));
    const agree = figures.reduce((n, r) => n + r.argmaxAgree, 0);
    const nearTies = figures.reduce((n, r) => n + r.nearTies, 0);
    const positions = figures.reduce((n, r) => n + r.positions, 0);
    const layerNote = layers.length ? `; ${layers.length} dequantized layers identical (${[...dtypes].join()})` : '';
    t.diagnostic(
      `${c.name}: ${got.loader} (${got.linear}${bf16 ? ', bf16 CPU kernel' : ''})${layerNote}; max |Δlogit| ${maxAbs.toExponential(2)} (${relative.toExponential(2)} of max |logit|); argmax ${agree}/${positions}${nearTies ? ` (+${nearTies} near-tie)` : ''}` +
        (got.refused.length ? `; refused: ${got.refused.join(' | ')}` : ''),
    );
    assert.ok(
      agree + nearTies >= positions - argmaxMisses,
      `${c.name}: argmax agrees at ${agree} of ${positions} positions, ${nearTies} near-ties`,
    );
  }
});
