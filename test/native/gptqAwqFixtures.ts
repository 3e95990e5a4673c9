// Seeded random matrices and plain reference computations for the GPTQ and AWQ specs.
import { seededRandom } from '../../native/lib/calibration';

export function gaussian(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export function randomMatrix(rows: number, cols: number, seed: number, std = 1): Float32Array {
  const g = gaussian(seed);
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = g() * std;
  return m;
}

/** Activations [tokens × cols] with strongly correlated channels and uneven magnitudes (a mix of a
 *  few latent factors plus noise, channel c scaled by channelScale[c]). */
export function correlatedActivations(tokens: number, cols: number, seed: number, channelScale?: Float32Array): Float32Array {
  const factors = 4;
  const mix = randomMatrix(factors, cols, seed + 1);
  const g = gaussian(seed);
  const x = new Float32Array(tokens * cols);
  for (let t = 0; t < tokens; t++) {
    const z = Array.from({ length: factors }, () => g());
    for (let c = 0; c < cols; c++) {
      let v = 0.3 * g();
      for (let f = 0; f < factors; f++) v += z[f] * mix[f * cols + c];
      x[t * cols + c] = v * (channelScale ? channelScale[c] : 1);
    }
  }
  return x;
}

/** ‖X·Wᵀ − X·Ŵᵀ‖² for X [tokens × cols] and W, Ŵ [rows × cols]. */
export function outputError(x: Float32Array, tokens: number, w: Float32Array, wHat: Float32Array, rows: number, cols: number): number {
  let total = 0;
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < rows; r++) {
      let d = 0;
      for (let c = 0; c < cols; c++) d += x[t * cols + c] * (w[r * cols + c] - wHat[r * cols + c]);
      total += d * d;
    }
  }
  return total;
}

/** Round half to even, as torch.round and the engine do. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
