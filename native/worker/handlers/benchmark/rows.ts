// Turns one variant's measurements into benchmark table rows: per batch size a forward row and a generate
// row per new-token count, with the variant's load time, kernel and perplexity on each. Latency and throughput
// are the median run's, with the range of the runs (the slowest run gives the highest latency, the lowest throughput).
import type { BenchmarkRow } from '../../protocol';
import type { MeasureReport } from './messages';
import type { VariantPlan } from './plan';

export function rowsOf(variant: VariantPlan, report: MeasureReport, baselinePerplexity: number | null): BenchmarkRow[] {
  const { perplexity } = report;
  const perplexityDelta = perplexity !== null && baselinePerplexity !== null ? perplexity - baselinePerplexity : null;
  return report.phases.map((p) => ({
    variant: variant.label,
    phase: p.phase,
    promptTokens: p.promptTokens,
    newTokens: p.newTokens,
    ...variant.description,
    kernel: report.kernel,
    batch: p.batch,
    loadSeconds: report.loadSeconds,
    perTokenLatencyMs: (p.seconds * 1000) / p.timedTokens,
    perTokenLatencyMsRange: [(p.secondsMin * 1000) / p.timedTokens, (p.secondsMax * 1000) / p.timedTokens] as [number, number],
    throughputTokensPerSecond: (p.batch * p.timedTokens) / p.seconds,
    throughputTokensPerSecondRange: [(p.batch * p.timedTokens) / p.secondsMax, (p.batch * p.timedTokens) / p.secondsMin] as [
      number,
      number,
    ],
    runs: p.runs,
    peakMemoryBytes: p.peakMemoryBytes,
    ...(p.reservedMemoryBytes === undefined ? {} : { reservedMemoryBytes: p.reservedMemoryBytes }),
    perplexity,
    perplexityDelta,
  }));
}
