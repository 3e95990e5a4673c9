#!/usr/bin/env node
// The kernels at every SIMD level this CPU runs, side by side at real layer shapes (Llama-3.1-8B's MLP:
// 14336 × 4096, far past any L3), interleaved in one run so a busy machine slows every level alike:
// decode (one row of x: GEMV, memory-bound; the 4-bit formats cycle through four copies of the layer, as one
// would fit in a 32 MiB L3) and prefill (128 rows: GEMM, compute-bound), fp16 weights and GPTQ 4-bit g128;
// decode of AWQ GEMM 4-bit and NF4 too. Reports the level the engine picks by default, seconds per product at each level, and
// the AVX-512 / AVX2 speed-up where the CPU has AVX-512, with the load average before and after.
// Last stdout line: {"name": "simd-levels", "results": [...]}; details in bench-results/simd-levels.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { loadAddon } = require(join(root, 'out', 'native', 'lib', 'addon.js'));
const { packLayer } = require(join(root, 'out', 'native', 'lib', 'formats.js'));
const { quantize } = require(join(root, 'out', 'native', 'lib', 'quant.js'));
const { writeSafetensors } = require(join(root, 'out', 'native', 'lib', 'io.js'));

const quick = process.env.QUANTSTUDIO_BENCH_QUICK === '1';
const N = quick ? 4096 : 14336,
  K = 4096,
  PREFILL_ROWS = 128,
  ROUNDS = quick ? 2 : 5;
const addon = loadAddon();
const simd = addon.kernelsSimd();
const loadBefore = loadavg()[0];

function seeded(n, seed, scale) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) / 16777216 - 0.5) * scale;
  }
  return out;
}

const wF32 = seeded(N * K, 7, 0.04);
const wF16 = new Uint16Array(N * K);
{
  // fp32 → fp16 through the engine's own converter (round to nearest even).
  const { f32ToF16 } = require(join(root, 'out', 'native', 'lib', 'io.js'));
  wF16.set(f32ToF16(wF32));
}
const scratch = mkdtempSync(join(tmpdir(), 'qs-bench-simd-'));
// Each quantized file holds LAYERS copies of the layer, timed in turn: one 4-bit copy (29 MiB) would sit in a
// 32 MiB L3, where the fp16 matrix (112 MiB) and a real model's decode do not.
const LAYERS = quick ? 1 : 4;
const prefixes = Array.from({ length: LAYERS }, (_, i) => `model.layers.${i}.mlp.up_proj`);
const prefix = prefixes[0];
function writeCopies(file, tensors) {
  const copies = prefixes.flatMap((p) => tensors.map((t) => ({ ...t, name: p + t.name.slice(prefix.length) })));
  writeSafetensors(file, copies);
}
const gptqFile = join(scratch, 'gptq.safetensors');
writeCopies(gptqFile, packLayer('gptq', prefix, await quantize('rtn', wF32, N, K, { bits: 4, groupSize: 128, sym: true })));
const awqFile = join(scratch, 'awq.safetensors');
writeCopies(awqFile, packLayer('awq-gemm', prefix, await quantize('rtn', wF32, N, K, { bits: 4, groupSize: 128, sym: false })));
const nf4File = join(scratch, 'nf4.safetensors');
writeCopies(nf4File, packLayer('bnb4', prefix, await quantize('nf4', wF32, N, K, { blocksize: 64, doubleQuant: false })));

const xDecode = seeded(K, 11, 1);
const xPrefill = seeded(PREFILL_ROWS * K, 12, 1);
const kernels = [
  { name: 'fp16 decode GEMV', time: (reps) => timeDense(xDecode, 1, reps) },
  { name: `fp16 prefill GEMM (${PREFILL_ROWS} rows)`, time: (reps) => timeDense(xPrefill, PREFILL_ROWS, reps) },
  { name: 'GPTQ 4-bit g128 decode GEMV', time: (reps) => addon.qlinearTime(gptqFile, prefixes, 1, reps) / LAYERS },
  { name: `GPTQ 4-bit g128 prefill (${PREFILL_ROWS} rows)`, time: (reps) => addon.qlinearTime(gptqFile, prefix, PREFILL_ROWS, reps) },
  {
    name: 'AWQ GEMM 4-bit g128 decode GEMV',
    bytes: (N * K) / 2 + ((N * K) / 128) * 2.5,
    time: (reps) => addon.qlinearTime(awqFile, prefixes, 1, reps) / LAYERS,
  },
  {
    name: 'NF4 (block 64) decode GEMV',
    bytes: (N * K) / 2 + ((N * K) / 64) * 4,
    time: (reps) => addon.qlinearTime(nf4File, prefixes, 1, reps) / LAYERS,
  },
];

function timeDense(x, m, reps) {
  addon.kernelsMatMul(x, m, wF16, 'F16', N, K, null, false); // warm the pages
  const t = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) addon.kernelsMatMul(x, m, wF16, 'F16', N, K, null, false);
  return Number(process.hrtime.bigint() - t) / 1e9 / reps;
}

// Interleaved: every round times each kernel at each level once; the best round per cell is kept (the
// least disturbed by other work on the machine).
const levels = simd.available.filter((l) => l !== 'scalar' || quick);
const best = new Map();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const k of kernels) {
      for (const level of levels) {
        const previous = addon.kernelsSetSimdLevel(level);
        const reps = k.name.includes('decode') ? 20 : 2;
        const seconds = k.time(reps);
        addon.kernelsSetSimdLevel(previous);
        const key = `${k.name}|${level}`;
        best.set(key, Math.min(best.get(key) ?? Infinity, seconds));
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const weightBytes = { fp16: N * K * 2, gptq: (N * K) / 2 + ((N * K) / 128) * 2 };
const results = [
  { metric: 'SIMD level the engine picks on this CPU', value: simd.cpu, unit: '' },
  { metric: 'load average (1 min) before / after', value: `${loadBefore.toFixed(2)} / ${loadavg()[0].toFixed(2)}`, unit: '' },
];
const details = { shape: { n: N, k: K, prefillRows: PREFILL_ROWS }, simd, loadBefore, loadAfter: loadavg()[0], seconds: {} };
for (const k of kernels) {
  for (const level of levels) {
    const s = best.get(`${k.name}|${level}`);
    details.seconds[`${k.name} at ${level}`] = s;
    const bytes = k.bytes ?? (k.name.startsWith('fp16') ? weightBytes.fp16 : weightBytes.gptq);
    const rate = k.name.includes('decode')
      ? { value: bytes / s / 1e9, unit: 'GB/s of weights' }
      : { value: (2 * N * K * PREFILL_ROWS) / s / 1e9, unit: 'GFLOP/s' };
    results.push({ metric: `${k.name} ${N}×${K} at ${level}`, ...rate });
  }
  if (levels.includes('avx512') && levels.includes('avx2')) {
    results.push({
      metric: `${k.name}: AVX-512 / AVX2 speed-up`,
      value: best.get(`${k.name}|avx2`) / best.get(`${k.name}|avx512`),
      unit: 'x',
    });
  }
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'simd-levels.json'), JSON.stringify(details, null, 2) + '\n');
console.log(JSON.stringify({ name: 'simd-levels', results }));
