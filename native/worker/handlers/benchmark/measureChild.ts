// The child side of a benchmark: a worker process forked by the benchmark job with one `measure` message.
// It measures that variant, reports progress and logs like a job, and ends with `measured` or `error`.
import { errorInfo } from '../../jobFailure';
import { measureVariant } from './measure';
import { MeasureChildMessage, MeasureRequest } from './messages';

function post(message: MeasureChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

export async function runMeasureChild(request: MeasureRequest, signal: AbortSignal): Promise<void> {
  let code = 0;
  try {
    const report = await measureVariant(
      request,
      signal,
      (phase, current, total, extra = {}) => void post({ type: 'progress', phase, current, total, ...extra }),
    );
    await post({ type: 'measured', report });
  } catch (error) {
    code = 1;
    await post({ type: 'error', error: errorInfo(error, signal.aborted) });
  }
  // The engine's thread pool would keep the process alive.
  process.exit(code);
}
