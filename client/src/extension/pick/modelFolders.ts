// Which folders are models the engine can run: a config.json beside safetensors weights. Also tells a
// quantized checkpoint (config.json with quantization_config) from a full-precision one. No `vscode` import.
import * as fs from 'fs';
import * as path from 'path';
import { CONFIG_FILE, readModelConfig } from '../../../../native/model';

export interface ModelFolder {
  folder: string;
  /** The config's quant_method ("gptq", "awq", "bitsandbytes"), undefined for a full-precision model. */
  quantMethod: string | undefined;
}

/** The folder as a model, or undefined when it lacks config.json or safetensors weights. */
export function readModelFolder(folder: string): ModelFolder | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return undefined;
  }
  if (!names.includes(CONFIG_FILE) || !names.some((n) => n.endsWith('.safetensors'))) return undefined;
  let quantMethod: string | undefined;
  try {
    const quantization = readModelConfig(folder).config.quantization_config as { quant_method?: unknown } | undefined;
    const method = quantization?.quant_method;
    quantMethod = typeof method === 'string' ? method : quantization ? 'unknown' : undefined;
  } catch {
    return undefined; // an unreadable config.json is not a model the engine can open
  }
  return { folder, quantMethod };
}

/** The model folders among the folders of some config.json files (and the demo model), without repeats, by path. */
export function modelFolders(configFiles: readonly string[], extra: readonly string[] = []): ModelFolder[] {
  const folders = new Set([...configFiles.map((f) => path.dirname(path.resolve(f))), ...extra.map((f) => path.resolve(f))]);
  return [...folders]
    .sort()
    .map(readModelFolder)
    .filter((m): m is ModelFolder => m !== undefined);
}
