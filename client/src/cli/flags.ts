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

/** A finite number flag, or an error string. */
export function finiteNumber(flags: ParsedFlags, name: string): number | undefined | string {
  const text = flags.values.get(name);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : `${name} must be a number, got '${text}'`;
}

/** The engine's run flags, for the commands that take them. */
export const RUN_OPTION_FLAGS = ['--kv-cache', '--lm-head'] as const;
export const RUN_OPTION_USAGE = '[--kv-cache fp32|fp16] [--lm-head stored|int8]';

/** --kv-cache fp32|fp16 and --lm-head stored|int8 (native/model/runOptions.ts) as job options (those given), or an
 *  error string. */
export function runOptions(flags: ParsedFlags): { kvCache?: KvCacheType; lmHead?: LmHeadType } | string {
  const options: { kvCache?: KvCacheType; lmHead?: LmHeadType } = {};
  const kvCache = flags.values.get('--kv-cache');
  if (kvCache !== undefined && !KV_CACHE_TYPES.includes(kvCache as KvCacheType))
    return `--kv-cache must be ${KV_CACHE_TYPES.join(' or ')}, got '${kvCache}'`;
  if (kvCache !== undefined) options.kvCache = kvCache as KvCacheType;
  const lmHead = flags.values.get('--lm-head');
  if (lmHead !== undefined && !LM_HEAD_TYPES.includes(lmHead as LmHeadType))
    return `--lm-head must be ${LM_HEAD_TYPES.join(' or ')}, got '${lmHead}'`;
  if (lmHead !== undefined) options.lmHead = lmHead as LmHeadType;
  return options;
}
