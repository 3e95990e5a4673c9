// Every SIMD level this CPU runs (native/src/kernels/cpu.h), so each level's kernels are checked against the
// scalar reference on one machine: an AVX-512 CPU tests avx512, avx2 and scalar; an AVX2-only one the last two.
import type { SimdLevel } from '../../native/lib/addon';
import { runtimeAddon } from '../../native/lib/runtime';

export const simdLevels: SimdLevel[] = runtimeAddon().kernelsSimd().available;

/** Runs fn with the kernels capped at `level`, then restores the cap before (also when fn throws); for a
 *  promise (engine calls that run on a worker thread), when it settles. */
export function atSimdLevel<T>(level: SimdLevel, fn: () => T): T {
  const addon = runtimeAddon();
  const previous = addon.kernelsSetSimdLevel(level);
  const restore = (): void => void addon.kernelsSetSimdLevel(previous);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}
