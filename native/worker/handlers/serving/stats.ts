// A concurrency level's figures from its requests' timings: percentiles as numpy's default (linear between
// the two nearest ranks), the definitions vLLM's benchmark_serving uses for TTFT, TPOT and ITL.
import type { LatencySummary, ServingLevel } from '../../protocol';
import type { RequestTiming } from './request';

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = (q / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function summary(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? 0 : sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { median: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), mean };
}

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

/** The level's figures; `seconds` is the wall time from the first request sent to the last one ended. */
export function levelOf(concurrency: number, timings: readonly RequestTiming[], seconds: number): ServingLevel {
  const done = timings.filter((t) => t.error === undefined && t.chunkMs.length > 0);
  const failed = timings.filter((t) => t.error !== undefined);
  const outputTokens = done.map((t) => t.outputTokens);
  const promptTokens = done.flatMap((t) => (t.promptTokens === undefined ? [] : [t.promptTokens]));
  const gaps = done.flatMap((t) => t.chunkMs.slice(1).map((ms, i) => ms - t.chunkMs[i]!));
  const perToken = done.filter((t) => t.outputTokens > 1).map((t) => (t.chunkMs.at(-1)! - t.chunkMs[0]!) / (t.outputTokens - 1));
  return {
    concurrency,
    completed: done.length,
    failed: failed.length,
    ...(failed[0]?.error === undefined ? {} : { firstError: failed[0].error }),
    durationSeconds: seconds,
    requestsPerSecond: seconds > 0 ? done.length / seconds : 0,
    outputTokensPerSecond: seconds > 0 ? outputTokens.reduce((s, n) => s + n, 0) / seconds : 0,
    meanPromptTokens: promptTokens.length === done.length && done.length > 0 ? mean(promptTokens) : null,
    meanOutputTokens: done.length > 0 ? mean(outputTokens) : 0,
    timeToFirstTokenMs: summary(done.map((t) => t.chunkMs[0]!)),
    timePerOutputTokenMs: summary(perToken),
    interTokenLatencyMs: summary(gaps),
    requestLatencyMs: summary(done.map((t) => t.endMs)),
  };
}
