// Runs one job in a forked worker process. Progress, tokens and logs arrive as callbacks; the promise
// settles with the RunResult, a JobError the worker reported, a JobCancelledError, or a JobCrashedError.
// No `vscode` import: the extension and the CLI both use this.
import { ChildProcess, fork } from 'child_process';
import { SERVING_ENDPOINT_ENV, SERVING_KEY_ENV } from '../../../native/model';
import type { TokenGrant } from '../../../native/model';
import type { Job, JobKind, LogLevel, RunResult, RunnerMessage, WorkerMessage, WorkerProgress } from '../../../native/worker/protocol';
import { JobCancelledError, JobCrashedError, JobError } from './errors';
import { removeDeadStaging, removeStagingLeftovers } from './leftovers';
import { workerPath } from './workerPath';

export type { Job, JobKind, RunResult };
export type { EndpointRecord, LatencySummary, ServingLevel } from '../../../native/worker/protocol';

export type JobProgress = WorkerProgress;

export interface JobCallbacks {
  onProgress?: (progress: JobProgress) => void;
  onToken?: (text: string) => void;
  onLog?: (level: LogLevel, text: string) => void;
  /** Called once the worker process exists. */
  onStarted?: (pid: number) => void;
  signal?: AbortSignal;
  /** Engine threads for this job (the engine reads QUANTSTUDIO_THREADS); 0 or unset = one per core. */
  threads?: number;
  /** Where a job on a Hub id downloads from; unset, the worker keeps the environment's HF_ENDPOINT / HF_TOKEN. */
  hub?: HubAccess;
  /** A serving benchmark's API key and the one endpoint the user gave it for (native/model/servingKey.ts). */
  serving?: TokenGrant;
}

export interface HubAccess {
  endpoint?: string;
  /** The token for `endpoint` only. Reaches the worker only through its environment: never logged, never in a RunResult. */
  token?: string;
}

/** The worker's environment: ours, with QUANTSTUDIO_THREADS set when a thread count is asked for and
 *  HF_ENDPOINT / HF_TOKEN when the caller names a Hub endpoint. A named endpoint never inherits our
 *  HF_TOKEN: the worker sends HF_TOKEN to HF_ENDPOINT, and that token was given for another one. */
export function workerEnv(
  threads: number | undefined,
  base: NodeJS.ProcessEnv = process.env,
  hub: HubAccess = {},
  serving?: TokenGrant,
): NodeJS.ProcessEnv {
  const extra: NodeJS.ProcessEnv = {};
  if (serving) {
    extra[SERVING_KEY_ENV] = serving.token;
    extra[SERVING_ENDPOINT_ENV] = serving.endpoint;
  }
  if (threads !== undefined && Number.isInteger(threads) && threads > 0) extra.QUANTSTUDIO_THREADS = String(threads);
  if (hub.endpoint) extra.HF_ENDPOINT = hub.endpoint;
  if (hub.token) extra.HF_TOKEN = hub.token;
  if (Object.keys(extra).length === 0) return base;
  const env = { ...base, ...extra };
  if (hub.endpoint && !hub.token) delete env.HF_TOKEN;
  return env;
}

/** How long a worker asked to stop may take before it is killed: short enough that even a worker stuck in
 *  synchronous work is gone, and the promise settled, within one second of the cancel. */
export const CANCEL_GRACE_MS = 700;
const LOG_TAIL_LINES = 20;

export function startJob(job: Job, callbacks: JobCallbacks = {}): Promise<RunResult> {
  const { signal } = callbacks;
  if (signal?.aborted) return Promise.reject(new JobCancelledError());
  return new Promise<RunResult>((resolve, reject) => {
    if (typeof job.options.out === 'string') {
      try {
        removeDeadStaging(job.options.out); // left by a job killed together with its runner
      } catch {
        // unreadable or busy: the job's own writing reports what matters
      }
    }
    const child: ChildProcess = fork(workerPath(), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      env: workerEnv(callbacks.threads, process.env, callbacks.hub, callbacks.serving),
    });
    const logTail: string[] = [];
    const remember = (line: string): void => {
      logTail.push(line);
      if (logTail.length > LOG_TAIL_LINES) logTail.shift();
    };
    let result: RunResult | undefined;
    let reported: JobError | undefined;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;

    const send = (message: RunnerMessage): void => {
      if (child.connected) child.send(message, (error) => error && remember(`could not reach the worker: ${error.message}`));
    };
    const cancel = (): void => {
      if (cancelled || child.exitCode !== null || child.signalCode !== null) return;
      cancelled = true;
      send({ type: 'cancel' });
      killTimer = setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS);
    };

    // Whatever the engine prints goes to the log too: it is often the only clue before a native crash.
    for (const [stream, level] of [
      [child.stdout, 'info'],
      [child.stderr, 'warn'],
    ] as const) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter((l) => l.trim() !== '')) {
          remember(line);
          callbacks.onLog?.(level, line);
        }
      });
    }
    child.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'progress': {
          const { type: _type, ...progress } = message;
          callbacks.onProgress?.(progress);
          break;
        }
        case 'token':
          callbacks.onToken?.(message.text);
          break;
        case 'log':
          remember(`[${message.level}] ${message.text}`);
          callbacks.onLog?.(message.level, message.text);
          break;
        case 'result':
          result = message.result;
          break;
        case 'error':
          reported = new JobError(message.error);
          break;
      }
    });
    child.on('error', (error) => {
      remember(`worker process error: ${error.message}`);
      // A worker that never started emits no 'exit'.
      if (child.pid === undefined) reject(new JobCrashedError(null, null, [...logTail]));
    });
    child.on('exit', (code, exitSignal) => {
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', cancel);
      const out = job.options.out;
      const failed = result === undefined;
      if (failed && typeof out === 'string') {
        try {
          removeStagingLeftovers(out, child.pid);
        } catch (error) {
          remember(`could not remove the partial output of ${out}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (cancelled && failed) reject(new JobCancelledError(exitSignal === 'SIGKILL'));
      else if (result !== undefined && code === 0) resolve(result);
      else if (reported && reported.code === 'CANCELLED') reject(new JobCancelledError());
      else if (reported) reject(reported);
      else reject(new JobCrashedError(code, exitSignal, [...logTail]));
    });

    signal?.addEventListener('abort', cancel, { once: true });
    if (child.pid !== undefined) callbacks.onStarted?.(child.pid);
    send({ type: 'run', job });
  });
}
