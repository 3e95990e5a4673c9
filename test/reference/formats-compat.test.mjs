// Checkpoint compatibility with the upstream loaders: layers the engine packs (GPTQ v1 at 2/3/4/8 bits
// incl. act-order, AWQ GEMM, bitsandbytes NF4/FP4 ± double quant, LLM.int8) are loaded by GPTQModel 7.7
// (TorchLinear, AutoAWQ's dequantize_gemm) and bitsandbytes 0.50 and must dequantize to exactly what the
// engine's unpack gives;
// bitsandbytes quantizing the same real tiny-llama weights must produce the same packed bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { referenceVenv, repoRoot, runPython } from './venv.mjs';

const require = createRequire(import.meta.url);
const venv = referenceVenv();
const compiledLib = join(repoRoot, 'out', 'native', 'lib');
const addon = process.env.QUANTSTUDIO_ADDON ?? join(repoRoot, 'native', 'build', 'Release', 'quantstudio.node');
const built = existsSync(join(compiledLib, 'formats.js')) && existsSync(addon);
const skip = venv.skip ?? (built ? false : 'the engine is not built; run `npm run build` first');
if (skip && process.env.CI === 'true') throw new Error(skip);

const layerName = 'model.layers.1.mlp.down_proj.weight';

/**
 * Element-wise equality of two float arrays as numbers: bit-identical except that −0 equals +0. FP4's code 0b1000
 * is "−0": bitsandbytes 0.50's AVX-512 CPU dequantize (chosen on CPUs that have it) returns −0 × absmax = −0 for it,
 * its other paths and the engine return +0. Both are zero in every product and sum, so the sign is not compared.
 */
function assertSameNumbers(actual, expected, message) {
  assert.equal(actual.length, expected.length, `${message}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    assert.fail(`${message}: element ${i} is ${a}, expected ${e}`);
  }
}
test(
  'GPTQ, AWQ and bitsandbytes checkpoints the engine writes load upstream and dequantize identically',
  { skip, timeout: 600_000 },
  async (t) => {
    const io = require(join(compiledLib, 'io.js'));
    const quant = require(join(compiledLib, 'quant.js'));
    const formats = require(join(compiledLib, 'formats.js'));
    const dir = mkdtempSync(join(tmpdir(), 'qs-formats-ref-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));

    const { data: w, shape } = io.readTensorFloat32(join(repoRoot, 'examples', 'tiny-llama'), layerName);
    const [rows, cols] = shape;
    const source = join(dir, 'source.safetensors');
    io.writeSafetensors(source, [{ name: 'w', dtype: 'F32', shape, data: w }]);

    const cases = [];
    const expected = new Map();
    const add = (name, format, result, caseFields, unpackOptions) => {
      const file = join(dir, `${name}.safetensors`);
      io.writeSafetensors(file, formats.packLayer(format, 'layer', result, { computeDtype: 'float32' }));
      expected.set(name, { result, unpacked: formats.unpackLayer(format, file, 'layer', unpackOptions) });
      cases.push({ ...caseFields, name, file, prefix: 'layer', source, out: join(dir, `${name}.out.safetensors`) });
    };

    for (const [bits, sym, descAct, groupSize] of [
      [4, true, false, 128],
      [4, false, true, 128],
      [3, false, false, 64],
      [2, false, false, 32],
      [8, true, true, -1],
    ]) {
      const result = await quant.quantize('rtn', w, rows, cols, { bits, sym, groupSize });
      if (descAct) {
        // An act-order layout: columns visited in a fixed scrambled order, groups assigned by visit position.
        const g = result.groupSize;
        const order = Array.from({ length: cols }, (_, c) => c).sort((a, b) => ((a * 7919) % cols) - ((b * 7919) % cols));
        order.forEach((column, position) => {
          result.gIdx[column] = Math.floor(position / g);
        });
      }
      add(
        `gptq-${bits}-${sym ? 'sym' : 'asym'}-${descAct ? 'act' : 'seq'}`,
        'gptq',
        result,
        { kind: 'gptq', bits, groupSize, sym, descAct, rows, cols },
        { bits, groupSize },
      );
    }
    add(
      'awq-gemm',
      'awq-gemm',
      await quant.quantize('rtn', w, rows, cols, { bits: 4, sym: false, groupSize: 128 }),
      { kind: 'awq-gemm', groupSize: 128 },
      { groupSize: 128 },
    );
    for (const type of ['nf4', 'fp4']) {
      for (const nested of [false, true]) {
        add(`bnb4-${type}-${nested}`, 'bnb4', await quant.quantize(type, w, rows, cols, { doubleQuant: nested }), {
          kind: 'bnb4',
          type,
          nested,
        });
      }
    }
    add('bnb8', 'bnb8', await quant.quantize('int8', w, rows, cols), { kind: 'bnb8' });

    const reply = await runPython(venv.python, 'formats_reference.py', { cases });
    assert.equal(reply.done, cases.length);

    const f16 = (a) => Array.from(io.f16ToF32(io.f32ToF16(a)));
    for (const c of cases) {
      const { result, unpacked } = expected.get(c.name);
      const theirs = io.readTensor(c.out, 'dequantized');
      const ours = quant.dequantize(unpacked);
      assert.deepEqual(theirs.shape, [rows, cols], c.name);
      if (c.kind === 'gptq' || c.kind === 'awq-gemm') {
        // GPTQModel dequantizes in the fp16 of the scales; our fp32 products are exact, so round once.
        assertSameNumbers(theirs.data, f16(ours), c.name);
        continue;
      }
      assertSameNumbers(theirs.data, ours, `${c.name}: dequantized`);
      if (c.kind === 'bnb4') {
        assert.deepEqual(Array.from(io.readTensor(c.out, 'packed').data), Array.from(result.packed), `${c.name}: packed`);
        if (c.nested) {
          // bitsandbytes' CPU 8-bit kernel looks codes up in a 65536-bin table instead of taking the nearest
          // code, so a value within one bin of a midpoint may land on the neighbour; the engine takes the
          // nearest (as the reference torch path does). Allow only such neighbours, and only rarely.
          const theirCodes = io.readTensor(c.out, 'absmax').data;
          let differing = 0;
          theirCodes.forEach((code, i) => {
            if (code === result.absmaxCodes[i]) return;
            differing++;
            assert.equal(Math.abs(code - result.absmaxCodes[i]), 1, `${c.name}: absmax code ${i}`);
          });
          assert.ok(differing <= theirCodes.length / 100, `${c.name}: ${differing} of ${theirCodes.length} absmax codes differ`);
          assert.deepEqual(
            Array.from(io.readTensor(c.out, 'nested_absmax').data),
            Array.from(result.nestedAbsmax),
            `${c.name}: nested absmax`,
          );
          assert.deepEqual(Array.from(io.readTensor(c.out, 'offset').data), [result.offset], `${c.name}: offset`);
        } else {
          assert.deepEqual(Array.from(io.readTensor(c.out, 'absmax').data), Array.from(result.absmax), `${c.name}: absmax`);
        }
      } else {
        assert.deepEqual(Array.from(io.readTensor(c.out, 'weight').data), Array.from(result.q), 'bnb8: int8 codes');
        assert.deepEqual(Array.from(io.readTensor(c.out, 'SCB').data), Array.from(result.scb), 'bnb8: SCB');
      }
    }
  },
);
