// Reading config.json fields for the runtime's parsers (runtimeConfig, ropeConfig, gemmaConfig): every value
// typed and checked, and every failure a ModelConfigError naming the file and the field.
export type Json = Record<string, unknown>;

export class ModelConfigError extends Error {}

export function fail(file: string, field: string, what: string): never {
  throw new ModelConfigError(`${file}: \`${field}\` ${what}`);
}

/** A positive integer, the fallback when absent. */
export function int(cfg: Json, file: string, field: string, fallback?: number): number {
  const v = cfg[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(file, field, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** A finite number, the fallback when absent. */
export function num(cfg: Json, file: string, field: string, fallback: number): number {
  const v = cfg[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, field, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}
