// What the editor says when a job ends without a result: a cancel is information, a reported error names
// what and where, a crash points to the log. No `vscode` import.
import { COMMANDS } from '../../../../server/src/protocol';
import { JobCancelledError, JobCrashedError, JobError } from '../../jobs';

export interface FailureNotice {
  severity: 'info' | 'error';
  /** The notification text. */
  message: string;
  /** The full text for the output channel (a crash's last log lines included). */
  log: string;
  /** Offer "Show Log" (the log holds more than the notification). */
  showLog: boolean;
  /** A command that fixes the cause, offered as a button (e.g. storing a Hub token). */
  fix?: { title: string; command: string };
}

/** Error codes a command can fix. */
const FIXES: Readonly<Record<string, { title: string; command: string }>> = {
  NEEDS_TOKEN: { title: 'Set Hugging Face Token', command: COMMANDS.setHubToken },
  NEEDS_API_KEY: { title: 'Set Serving API Key', command: COMMANDS.setServingApiKey },
};

export interface FailureContext {
  /** "Quantization", "Benchmark", "Generation", "Perplexity evaluation". */
  noun: string;
  /** A folder the job writes; a cancel that came after it was written says so. */
  output?: { folder: string; existedBefore: boolean; existsNow: boolean };
}

export function failureNotice(error: unknown, ctx: FailureContext): FailureNotice {
  if (error instanceof JobCancelledError) {
    const o = ctx.output;
    const written = o !== undefined && !o.existedBefore && o.existsNow;
    const message = written
      ? `${ctx.noun} cancelled after the output was written to ${o.folder}.`
      : `${ctx.noun} cancelled; no output was written.`;
    return { severity: 'info', message, log: message, showLog: false };
  }
  const lower = ctx.noun.toLowerCase();
  if (error instanceof JobCrashedError) {
    // the notification keeps the first sentence; the worker's last lines are in the log
    const head = (error.message.split('\n')[0] ?? '').replace(/; last log lines:$/, '');
    return { severity: 'error', message: `QuantStudio: ${lower} failed: ${head}.`, log: error.message, showLog: true };
  }
  if (error instanceof JobError) {
    const where = error.where ? ` (${error.where})` : '';
    const fix = FIXES[error.code];
    return {
      severity: 'error',
      message: `QuantStudio: ${lower} failed: ${error.message}${where}`,
      log: `${error.code}: ${error.message}${where}`,
      showLog: true,
      ...(fix ? { fix } : {}),
    };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { severity: 'error', message: `QuantStudio: ${lower} failed: ${text}`, log: text, showLog: true };
}
