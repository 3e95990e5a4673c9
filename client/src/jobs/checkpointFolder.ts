// Whether a config file sits in a quantized checkpoint: its folder holds safetensors weights and says they are
// quantized (config.json with a quantization_config, or AutoGPTQ's quantize_config.json / AutoAWQ's
// quant_config.json beside them). Such a config describes the weights next to it; quantizing the folder again
// with it would run the method on already-quantized weights, so a benchmark takes the folder as it is.
import * as fs from 'node:fs';
import * as path from 'node:path';

const SIDE_CONFIGS = ['quantize_config.json', 'quant_config.json'];

/** The quantized checkpoint folder a config file belongs to, or undefined (job files never: they name their model). */
export function quantizedCheckpointOf(configFile: string): string | undefined {
  if (configFile.endsWith('.quant.json')) return undefined;
  const folder = path.dirname(path.resolve(configFile));
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return undefined;
  }
  if (!names.some((n) => n.endsWith('.safetensors'))) return undefined;
  if (names.some((n) => SIDE_CONFIGS.includes(n))) return folder;
  try {
    const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')) as { quantization_config?: unknown };
    return typeof config.quantization_config === 'object' && config.quantization_config !== null ? folder : undefined;
  } catch {
    return undefined;
  }
}
