// Errors are values: what went wrong, where, and what the user can do about it.

export type ModelErrorCode =
  | 'not-found' // no such folder / repo / file
  | 'needs-token' // gated or private repo, 401/403
  | 'offline' // Hub unreachable or too slow
  | 'invalid' // a file exists but is malformed
  | 'unsupported'; // a layout we do not read (e.g. only .bin weights)

export interface ModelError {
  code: ModelErrorCode;
  message: string;
  /** File path, URL path or hub id the error is about. */
  where: string;
  /** What to do about it. */
  hint: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ModelError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(code: ModelErrorCode, message: string, where: string, hint: string): Result<T> {
  return { ok: false, error: { code, message, where, hint } };
}

/** Thrown inside a reader and turned into a Result at its boundary. */
export class ModelErrorException extends Error {
  constructor(readonly error: ModelError) {
    super(`${error.where}: ${error.message}`);
  }
}

export function raise(code: ModelErrorCode, message: string, where: string, hint: string): never {
  throw new ModelErrorException({ code, message, where, hint });
}

/** One line for a terminal or a status bar: what, where, what to do. */
export function formatModelError(error: ModelError): string {
  return `${error.where}: ${error.message} (${error.hint})`;
}
