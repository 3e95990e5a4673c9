// A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) resolved for the engine: which
// modules it adapts, each with its rank and scaling. Only reads the folder; the engine reads the factors.
import * as fs from 'fs';
import * as path from 'path';
import { LoraConfig, LoraConfigError, loraModuleScale, loraTensorModule, parseLoraConfig } from '../model';
import type { AdapterRecord } from '../model';
import { loadAddon } from './addon';
import { readSafetensorsHeader } from './io';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

export interface LoraModulePlan {
  name: string;
  rank: number;
  scale: number;
}

/** What the engine is handed (runtimeOpen's and the pipeline's `adapter`). */
export interface LoraAdapter {
  folder: string;
  file: string;
  config: LoraConfig;
  modules: LoraModulePlan[];
}

function readConfig(file: string): LoraConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the adapter config (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return parseLoraConfig(json);
  } catch (e) {
    if (e instanceof LoraConfigError) throw new Error(`${file}: ${e.message}`);
    throw e;
  }
}

/** Reads and checks an adapter folder; throws naming the file, and the key or tensor, the engine cannot apply. */
export function readLoraAdapter(folder: string): LoraAdapter {
  const config = readConfig(path.join(folder, ADAPTER_CONFIG));
  const file = path.join(folder, ADAPTER_WEIGHTS);
  if (!fs.existsSync(file)) throw new Error(`${file}: the adapter weights are missing`);
  const modules = new Map<string, LoraModulePlan>();
  for (const t of readSafetensorsHeader(file).tensors) {
    const owner = loraTensorModule(t.name);
    if (!owner) {
      const embedding = /lora_embedding_[AB]/.test(t.name);
      throw new Error(
        `${file}: ${t.name} ${embedding ? 'is LoRA on an embedding' : 'is not a lora_A/lora_B weight'}; only LoRA on linear layers is supported`,
      );
    }
    if (!modules.has(owner.module)) modules.set(owner.module, { name: owner.module, ...loraModuleScale(config, owner.module) });
  }
  if (modules.size === 0) throw new Error(`${file}: holds no LoRA weights`);
  return { folder, file, config, modules: [...modules.values()] };
}

export function adapterRecord(adapter: LoraAdapter): AdapterRecord {
  return {
    name: path.basename(path.resolve(adapter.folder)),
    rank: adapter.config.r,
    alpha: adapter.config.loraAlpha,
    rslora: adapter.config.useRslora,
    targetModules: adapter.config.targetModules,
    modules: adapter.modules.length,
  };
}

/** The engine's view: file and modules only. */
export function engineAdapter(adapter: LoraAdapter): { file: string; modules: LoraModulePlan[] } {
  return { file: adapter.file, modules: adapter.modules };
}

export interface LoraAddon {
  loraMerge(
    adapter: { file: string; modules: LoraModulePlan[] },
    module: number,
    weight: Float32Array,
    out: number,
    inFeatures: number,
  ): Float32Array;
}

/** W + scale·B·A for one adapted module (weight: fp32 [out, in]), as the quantize pipeline merges it before quantizing. */
export function mergeLoraWeight(adapter: LoraAdapter, module: string, weight: Float32Array, out: number, inFeatures: number): Float32Array {
  const index = adapter.modules.findIndex((m) => m.name === module);
  if (index < 0) throw new Error(`${adapter.file}: adapts no module ${module}`);
  return loadAddon().loraMerge(engineAdapter(adapter), index, weight, out, inFeatures);
}
