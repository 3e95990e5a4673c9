// Helpers for the quantized-linear tests: the addon's test export, seeded data, x·Wᵀ in float64,
// and act-order GPTQ results built from the engine's RTN quantizer.
import { SimdLevel, loadAddon } from '../../native/lib/addon';
import { GroupResult, quantize } from '../../native/lib/quant';

/** 'fast': the dispatching kernels at the active level; a SimdLevel: the same capped there; 'reference': element-wise. */
export type QlinearMode = 'fast' | SimdLevel | 'reference';

export interface QlinearResult {
  format: string;
  inFeatures: number;
  outFeatures: number;
  y: Float32Array;
}

interface QlinearAddon {
  qlinearForward(path: string, prefix: string, x: Float32Array, m: number, mode: QlinearMode): QlinearResult;
}

/** Runs `<prefix>` of a .safetensors file or folder as a quantized Linear on x [m × in]. */
export function qlinearForward(path: string, prefix: string, x: Float32Array, m: number, mode: QlinearMode): QlinearResult {
  return (loadAddon() as unknown as QlinearAddon).qlinearForward(path, prefix, x, m, mode);
}

export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Roughly normal values (sum of uniforms), scaled. */
export function randomMatrix(count: number, scale: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: count }, () => (next() + next() + next() - 1.5) * scale);
}

/** y[m × n] = x[m × k] · wᵀ (+ bias) in float64, and the per-output bound Σ|x||w| for rounding checks. */
export function matmulF64(
  x: Float32Array,
  m: number,
  w: Float32Array,
  n: number,
  k: number,
  bias?: Float32Array,
): { y: Float64Array; magnitude: Float64Array } {
  const y = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = bias ? bias[j] : 0;
      let mag = bias ? Math.abs(bias[j]) : 0;
      for (let c = 0; c < k; c++) {
        const p = x[i * k + c] * w[j * k + c];
        acc += p;
        mag += Math.abs(p);
      }
      y[i * n + j] = acc;
      magnitude[i * n + j] = mag;
    }
  }
  return { y, magnitude };
}

/** max |a − b| / max |b|: the error relative to the output's scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: ${a.length} values against ${b.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

/** RTN with act-order: columns are quantized in the order of a random permutation, so g_idx is not
 *  monotonic (what GPTQ's desc_act writes). Asymmetric, so zero points vary. */
export async function actOrderRtn(
  w: Float32Array,
  rows: number,
  cols: number,
  bits: number,
  groupSize: number,
  seed: number,
): Promise<GroupResult> {
  const next = random(seed);
  const perm = Array.from({ length: cols }, (_, i) => i);
  for (let i = cols - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const permuted = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) permuted[r * cols + i] = w[r * cols + perm[i]];
  const inOrder = (await quantize('rtn', permuted, rows, cols, { bits, groupSize, sym: false })) as GroupResult;
  const q = new Uint8Array(rows * cols);
  const gIdx = new Int32Array(cols);
  for (let i = 0; i < cols; i++) {
    gIdx[perm[i]] = Math.floor(i / groupSize);
    for (let r = 0; r < rows; r++) q[r * cols + perm[i]] = inOrder.q[r * cols + i];
  }
  return { ...inOrder, q, gIdx };
}
