// Runs one step of a benchmark (quantize a variant, measure a variant) in a fork of this worker, relaying
// its progress and logs. A cancel kills the child at once: its output is scratch, removed by the caller.
import { fork } from 'child_process';
import { JobFailure } from '../../jobFailure';
import type { JobErrorInfo, LogLevel, WorkerMessage } from '../../protocol';
import type { MeasureChildMessage } from './messages';

export interface ChildRelay {
  progress(phase: string, current: number, total: number, extra: { message?: string; etaSeconds?: number }): void;
  log(level: LogLevel, text: string): void;
}

type ChildMessage = WorkerMessage | MeasureChildMessage;

/**
 * Forks this worker script, sends `message`, and settles with what `finish` picks from the child's final
 * message. `what` names the step in errors, e.g. `measuring "gptq 4-bit g128"`.
 */
export function runInChild<T>(
  message: object,
  what: string,
  signal: AbortSignal,
  relay: ChildRelay,
  finish: (m: ChildMessage) => T | undefined,
): Promise<T> {
  if (signal.aborted) return Promise.reject(new JobFailure('CANCELLED', 'the job was cancelled'));
  const script = process.argv[1];
  if (script === undefined)
    return Promise.reject(
      new JobFailure('ENGINE_ERROR', 'cannot tell which script this worker runs, so it cannot fork the benchmark steps'),
    );
  return new Promise<T>((resolve, reject) => {
    // --expose-gc lets a measuring child free earlier phases' garbage before each peak-memory reading.
    const child = fork(script, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
      execArgv: [...process.execArgv, '--expose-gc'],
    });
    relay.log('debug', `${what}: process ${child.pid ?? '(not started)'}`);
    let value: T | undefined;
    let failure: JobErrorInfo | undefined;
    const kill = (): void => void child.kill('SIGKILL');
    signal.addEventListener('abort', kill, { once: true });
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') relay.progress(m.phase, m.current, m.total, { message: m.message, etaSeconds: m.etaSeconds });
      else if (m.type === 'log') relay.log(m.level, m.text);
      else if (m.type === 'error') failure = m.error;
      else value = finish(m) ?? value;
    });
    child.on('error', (error) => relay.log('error', `${what}: ${error.message}`));
    child.on('exit', (code, exitSignal) => {
      signal.removeEventListener('abort', kill);
      if (signal.aborted) reject(new JobFailure('CANCELLED', 'the job was cancelled'));
      else if (value !== undefined && code === 0) resolve(value);
      else if (failure) reject(new JobFailure(failure.code, `${what}: ${failure.message}`, failure.where));
      else
        reject(
          new JobFailure(
            'ENGINE_ERROR',
            `${what}: the process stopped (${exitSignal ?? `exit code ${code}`}) before it finished; the log above has the engine's last words`,
          ),
        );
    });
    child.send(message);
  });
}
