// Runs one engine job for a CLI command: the worker process does the work, progress goes to stderr (one
// redrawn line on a terminal, a line per phase and every few seconds otherwise), Ctrl+C, SIGTERM and SIGHUP
// (a closed terminal) cancel cleanly, and a failure becomes a message on stderr and exit code 1.
import { JobCancelledError, JobCrashedError, JobError, startJob } from '../jobs';
import type { Job, JobProgress, RunResult } from '../jobs';
import type { TokenGrant } from '../../../native/model';

const LOG_EVERY_MS = 3000;
/** Signals that cancel the job: its worker stops and its partial output is removed before the CLI exits. */
const CANCEL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function progressLine(p: JobProgress): string {
  const share = p.total > 0 ? ` ${p.current}/${p.total} (${Math.round((100 * p.current) / p.total)}%)` : '';
  const eta = p.etaSeconds !== undefined && p.current < p.total ? `, ~${Math.ceil(p.etaSeconds)} s left` : '';
  return `${p.phase}${share}${eta}${p.message ? ` ${p.message}` : ''}`;
}

/**
 * hold(): generated text is about to stream to stdout, which shares the terminal line the progress redraws;
 * the progress line is cleared and stays off from then on, so the text neither runs into it nor is erased by it.
 */
function progressReporter(): { report(p: JobProgress): void; hold(): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let lastPhase = '';
  let lastAt = 0;
  let held = false;
  return {
    report(p) {
      if (held) return;
      const line = progressLine(p);
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        return;
      }
      const now = Date.now();
      if (p.phase !== lastPhase || now - lastAt >= LOG_EVERY_MS || p.current === p.total) {
        process.stderr.write(`${line}\n`);
        lastPhase = p.phase;
        lastAt = now;
      }
    },
    hold() {
      if (!held && tty) process.stderr.write('\r\x1b[2K');
      held = true;
    },
    done() {
      if (tty && !held) process.stderr.write('\r\x1b[2K');
    },
  };
}

export interface CliJobOptions {
  /** Called with each streamed piece of generated text. */
  onToken?: (text: string) => void;
  /** A serving benchmark's API key and the endpoint the user gave it for. */
  serving?: TokenGrant;
}

/** Runs the job; returns the RunResult, or undefined after printing why it failed. */
export async function runCliJob(command: string, job: Job, options: CliJobOptions = {}): Promise<RunResult | undefined> {
  const reporter = progressReporter();
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  for (const name of CANCEL_SIGNALS) process.once(name, onInterrupt);
  try {
    return await startJob(job, {
      onProgress: (p) => reporter.report(p),
      onToken:
        options.onToken &&
        ((text: string) => {
          reporter.hold();
          options.onToken!(text);
        }),
      onLog: (level, text) => {
        if (level === 'warn' || level === 'error') process.stderr.write(`${text}\n`);
      },
      signal: controller.signal,
      ...(options.serving ? { serving: options.serving } : {}),
    });
  } catch (error) {
    reporter.done();
    if (error instanceof JobError) {
      process.stderr.write(`quantstudio ${command}: ${error.message}\n`);
    } else if (error instanceof JobCancelledError || error instanceof JobCrashedError) {
      process.stderr.write(`quantstudio ${command}: ${error.message}\n`);
    } else {
      process.stderr.write(`quantstudio ${command}: ${(error as Error).message}\n`);
    }
    return undefined;
  } finally {
    reporter.done();
    for (const name of CANCEL_SIGNALS) process.off(name, onInterrupt);
  }
}
