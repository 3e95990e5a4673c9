// A failure the user can act on: the worker reports it as an `error` message instead of crashing.
import { LoraConfigError } from '../model';
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
  // a LoRA adapter folder the job names that is missing, malformed or asks for what the engine does not compute
  if (error instanceof LoraConfigError) return { message: error.message, code: 'INVALID_JOB', where: 'adapter' };
  if (cancelled) return { message: 'the job was cancelled', code: 'CANCELLED' };
  return { message: error instanceof Error ? error.message : String(error), code: 'ENGINE_ERROR' };
}
