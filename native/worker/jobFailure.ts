// A failure the user can act on: the worker reports it as an `error` message instead of crashing.
import type { ErrorCode, JobErrorInfo } from './protocol';

export class JobFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly where?: string,
  ) {
    super(message);
  }

  toInfo(): JobErrorInfo {
    return this.where === undefined
      ? { message: this.message, code: this.code }
      : { message: this.message, code: this.code, where: this.where };
  }
}

/** Any thrown value as error info; engine errors keep their own message. */
export function errorInfo(error: unknown, cancelled: boolean): JobErrorInfo {
  if (error instanceof JobFailure) return error.toInfo();
  if (cancelled) return { message: 'the job was cancelled', code: 'CANCELLED' };
  return { message: error instanceof Error ? error.message : String(error), code: 'ENGINE_ERROR' };
}
