import { resolve } from 'node:path';
// A small flag parser for the job commands: `--name value` pairs and boolean switches, nothing positional
// unless the command asks for it. Returns an error string a command turns into a usage error.
import { KV_CACHE_TYPES, LM_HEAD_TYPES } from '../../../native/model';
import type { KvCacheType, LmHeadType } from '../../../native/model';

export interface FlagSpec {
  /** Flags that take a value, e.g. '--model'. */
  values: readonly string[];
  /** Flags that are switches, e.g. '--json'. */
  switches: readonly string[];
  /** How many positional arguments are allowed (default 0). */
  positional?: number;
}

export interface ParsedFlags {
  values: Map<string, string>;
  switches: Set<string>;
  positional: string[];
}

export function parseFlags(args: readonly string[], spec: FlagSpec): ParsedFlags | string {
  const parsed: ParsedFlags = { values: new Map(), switches: new Set(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (spec.switches.includes(arg)) parsed.switches.add(arg);
    else if (spec.values.includes(arg)) {
      const value = args[++i];
      if (value === undefined) return `${arg} needs a value`;
      parsed.values.set(arg, value);
    } else if (!arg.startsWith('--') && parsed.positional.length < (spec.positional ?? 0)) parsed.positional.push(arg);
    else return `unexpected argument '${arg}'`;
  }
  return parsed;
}

/** A positive integer flag, its default when absent, or an error string. */
export function positiveInteger(flags: ParsedFlags, name: string, fallback?: number): number | undefined | string {
  const text = flags.values.get(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : `${name} must be a positive integer, got '${text}'`;
}

/** "1,16" → [1, 16], or an error string. */
export function integerList(flags: ParsedFlags, name: string): number[] | undefined | string {
  const text = flags.values.get(name);
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => Number(s.trim()));
  return list.every((n) => Number.isInteger(n) && n > 0) ? list : `${name} must be positive integers separated by commas, got '${text}'`;
}

/** A finite number flag, or an error string. */
export function finiteNumber(flags: ParsedFlags, name: string): number | undefined | string {
  const text = flags.values.get(name);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : `${name} must be a number, got '${text}'`;
}

/** The engine's run flags, for the commands that take them. */
export const RUN_OPTION_FLAGS = ['--kv-cache', '--lm-head', '--adapter'] as const;
export const RUN_OPTION_USAGE = '[--kv-cache fp32|fp16] [--lm-head stored|int8] [--adapter <folder>]';

/** --kv-cache fp32|fp16 and --lm-head stored|int8 (native/model/runOptions.ts) and --adapter <folder> (a PEFT LoRA
 *  adapter, resolved against the working directory) as job options (those given), or an error string. */
export function runOptions(flags: Pick<ParsedFlags, 'values'>): RunOptions | string {
  const options: RunOptions = {};
  for (const [flag, key, values] of [
    ['--kv-cache', 'kvCache', KV_CACHE_TYPES],
    ['--lm-head', 'lmHead', LM_HEAD_TYPES],
  ] as const) {
    const text = flags.values.get(flag);
    if (text === undefined) continue;
    if (!(values as readonly string[]).includes(text)) return `${flag} must be ${values.join(' or ')}, got '${text}'`;
    (options as Record<string, string>)[key] = text;
  }
  const adapter = flags.values.get('--adapter');
  if (adapter !== undefined) {
    if (adapter === '') return '--adapter needs a folder (adapter_config.json + adapter_model.safetensors)';
    options.adapter = resolve(adapter);
  }
  return options;
}

export interface RunOptions {
  kvCache?: KvCacheType;
  lmHead?: LmHeadType;
  adapter?: string;
}

/** What runs a quantize or benchmark job, for the commands that take it. */
export const BACKEND_FLAGS = ['--backend', '--python'] as const;
export const BACKEND_USAGE = '[--backend engine|python] [--python <interpreter>]';

/** --backend and --python as job options (those given); the worker checks the backend's name (jobBackend.ts). */
export function backendOptions(flags: Pick<ParsedFlags, 'values'>): { backend?: string; python?: string } {
  const backend = flags.values.get('--backend');
  const python = flags.values.get('--python');
  return { ...(backend === undefined ? {} : { backend }), ...(python === undefined ? {} : { python }) };
}

/** GPTQModel's kernel on the python backend, for the commands that run a checkpoint (benchmark, generate). */
export const KERNEL_FLAG = '--kernel';
export const KERNEL_USAGE = '[--kernel <GPTQModel backend>]';

/** --kernel as a job option (when given); the worker refuses it on the engine (jobBackend.ts). */
export function kernelOption(flags: Pick<ParsedFlags, 'values'>): { kernel?: string } {
  const kernel = flags.values.get(KERNEL_FLAG);
  return kernel === undefined ? {} : { kernel };
}
