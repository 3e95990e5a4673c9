// Every SIMD level this CPU runs (native/src/kernels/cpu.h), so each level's kernels are checked against the
// scalar reference on one machine: an AVX-512 CPU tests avx512, avx2 and scalar; an AVX2-only one the last two.
import type { SimdLevel } from '../../native/lib/addon';
import { runtimeAddon } from '../../native/lib/runtime';

export const simdLevels: SimdLevel[] = runtimeAddon().kernelsSimd().available;

/** Runs fn with the kernels capped at `level`, then restores the cap before (also when fn throws). */
export function atSimdLevel<T>(level: SimdLevel, fn: () => T): T {
  const addon = runtimeAddon();
  const previous = addon.kernelsSetSimdLevel(level);
  try {
    return fn();
  } finally {
    addon.kernelsSetSimdLevel(previous);
  }
}

/** atSimdLevel for asynchronous work (engine calls that run on a worker thread). */
export async function atSimdLevelAsync<T>(level: SimdLevel, fn: () => Promise<T>): Promise<T> {
  const addon = runtimeAddon();
  const previous = addon.kernelsSetSimdLevel(level);
  try {
    return await fn();
  } finally {
    addon.kernelsSetSimdLevel(previous);
  }
}
