// What a job handler gets: the validated job, the resolved model folder, a cancel signal and the
// channel back to the runner.
import type { Addon } from '../lib';
import type { Job, LogLevel, RunMetrics, RunResult, WorkerProgress } from './protocol';

export interface JobContext {
  job: Job;
  modelFolder: string;
  addon: Addon;
  signal: AbortSignal;
  progress(phase: string, current: number, total: number, extra?: Omit<WorkerProgress, 'phase' | 'current' | 'total'>): void;
  token(text: string): void;
  log(level: LogLevel, text: string): void;
}

/** What a handler returns; the worker adds ids, timing, model and environment. */
export type HandlerOutput = Pick<RunResult, 'metrics'> &
  Partial<Pick<RunResult, 'rows' | 'layers' | 'allocation' | 'text' | 'output' | 'backend' | 'endpoint' | 'serving' | 'adapter'>> & {
    model?: Partial<RunResult['model']>;
  };

export type JobHandler = (ctx: JobContext) => Promise<HandlerOutput>;

export function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** Seconds left when `done` of `total` steps took the time since `started` (undefined before the first step). */
export function etaSeconds(started: bigint, done: number, total: number): number | undefined {
  return done > 0 ? (seconds(started) / done) * (total - done) : undefined;
}

export type { RunMetrics };
