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

/** What makes two folders the same model: config.json's text and each weight file's name and size. */
function fingerprint(folder: string): string | undefined {
  try {
    const weights = fs
      .readdirSync(folder)
      .filter((n) => n.endsWith('.safetensors'))
      .sort();
    const sizes = weights.map((n) => `${n}:${fs.statSync(path.join(folder, n)).size}`);
    return `${fs.readFileSync(path.join(folder, 'config.json'), 'utf8')}\n${sizes.join('\n')}`;
  } catch {
    return undefined;
  }
}

/**
 * The model folders among the folders of some config.json files, without repeats, by path, then the extra
 * folders (the extension's own demo model) that no workspace folder already holds a copy of: a run then
 * records the workspace's path, not one inside the extension.
 */
export function modelFolders(configFiles: readonly string[], extra: readonly string[] = []): ModelFolder[] {
  const own = [...new Set(configFiles.map((f) => path.dirname(path.resolve(f))))]
    .sort()
    .map(readModelFolder)
    .filter((m): m is ModelFolder => m !== undefined);
  const seen = new Set(own.map((m) => path.resolve(m.folder)));
  const prints = new Set(own.map((m) => fingerprint(m.folder)).filter((p): p is string => p !== undefined));
  const added = extra
    .map((f) => path.resolve(f))
    .filter((f) => !seen.has(f))
    .map(readModelFolder)
    .filter((m): m is ModelFolder => m !== undefined);
  return [...own, ...added.filter((m) => !prints.has(fingerprint(m.folder) ?? ''))];
}
