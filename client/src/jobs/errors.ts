// How a job can fail, as values the caller can tell apart and show: a reported error, a cancel, a crash.
import type { ErrorCode, JobErrorInfo } from '../../../native/worker/protocol';

/** The worker reported an error it understood (bad input, missing model, engine error). */
export class JobError extends Error {
  readonly code: ErrorCode;
  readonly where?: string;

  constructor(info: JobErrorInfo) {
    super(info.message);
    this.name = 'JobError';
    this.code = info.code;
    this.where = info.where;
  }
}

export class JobCancelledError extends Error {
  /** True when the worker did not stop when asked and had to be killed. */
  constructor(readonly killed = false) {
    super(killed ? 'the job was cancelled (its worker did not stop in time and was killed)' : 'the job was cancelled');
    this.name = 'JobCancelledError';
  }
}

/** The worker process died without reporting (native crash, killed, out of memory). */
export class JobCrashedError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    /** The last log and stderr lines of the worker, oldest first. */
    readonly lastLogLines: readonly string[],
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const tail = lastLogLines.length > 0 ? `; last log lines:\n${lastLogLines.join('\n')}` : '';
    super(`the job's worker process ${how} without finishing the job${tail}`);
    this.name = 'JobCrashedError';
  }
}
