// Loads the engine addon. Only job worker processes call this: the extension host and the language
// server never load native code, so a native crash costs a job, never the editor.
import * as fs from 'fs';
import * as path from 'path';
import type { FormatsAddon } from './formats';
import type { IoAddon } from './io';
import type { LoraAddon } from './loraAdapter';
import type { PipelineAddon } from './quantize';
import type { QuantAddon } from './quant';
import type { RuntimeAddon } from './runtime';

/** The engine's SIMD levels (native/src/kernels/cpu.h), lowest first. */
export const SIMD_LEVELS = ['scalar', 'avx2', 'avx512'] as const;
export type SimdLevel = (typeof SIMD_LEVELS)[number];

export interface EngineInfo {
  version: string;
  hardwareThreads: number;
  avx2: boolean;
  avx512: boolean;
  /** The level the kernels run at: the CPU's best, capped by QUANTSTUDIO_SIMD. */
  simd: SimdLevel;
}

/** The addon's exports. Each engine area adds its functions here as it lands. */
export interface Addon extends IoAddon, QuantAddon, FormatsAddon, RuntimeAddon, PipelineAddon, LoraAddon {
  engineInfo(): EngineInfo;
  /** Returns the heap's free pages to the system (glibc malloc_trim); false where nothing was released. */
  releaseFreeMemory(): boolean;
  /** Linux: the kernel SIGKILLs this process when its parent dies (killed now if `parentPid` is gone already);
   *  false on platforms without such a call. */
  dieWithParent(parentPid: number): boolean;
}

let cached: Addon | undefined;

/** Finds native/build/Release/quantstudio.node from the sources, the compiled out/ tree or the bundle. */
export function addonPath(): string {
  const candidates = [
    process.env.QUANTSTUDIO_ADDON,
    path.join(__dirname, '..', 'build', 'Release', 'quantstudio.node'),
    path.join(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'quantstudio.node'),
    path.join(__dirname, '..', 'native', 'build', 'Release', 'quantstudio.node'),
  ].filter((p): p is string => typeof p === 'string');
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(`the native engine is not built (looked for ${candidates.join(', ')}); run \`npm run build:native\``);
  }
  return found;
}

/**
 * QUANTSTUDIO_SIMD caps the kernels' SIMD level (to compare levels, or to rule one out); the engine reads it
 * once and ignores what it does not know, so a mistyped value is refused here with a message instead.
 */
export function checkSimdEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const value = env.QUANTSTUDIO_SIMD;
  if (value === undefined || value === '' || (SIMD_LEVELS as readonly string[]).includes(value)) return;
  throw new Error(`QUANTSTUDIO_SIMD must be one of ${SIMD_LEVELS.join(', ')} (or unset for the CPU's best), got "${value}"`);
}

export function loadAddon(): Addon {
  if (!cached) {
    checkSimdEnvironment();
    cached = require(addonPath()) as Addon;
  }
  return cached;
}
