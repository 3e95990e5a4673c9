// Turns the worker's progress events into what a notification progress bar needs: a message and an
// increment (VS Code adds increments up to 100). Each phase of a job kind owns a share of the bar (data
// below), so the bar moves steadily, e.g. from perplexity-before through the layers to perplexity-after.
// Phases a table does not know are shown but do not move the bar; an `overall` fraction, when the worker
// sends one, sets the bar directly. No `vscode` import.
import type { JobKind, JobProgress } from '../../jobs';

type PhaseWeights = ReadonlyArray<readonly [phase: string, weight: number]>;

/** Share of the bar per phase, per job kind, in the order the worker reports them; skipped phases never fill theirs. */
export const PHASE_WEIGHTS: Readonly<Record<JobKind, PhaseWeights>> = {
  quantize: [
    ['perplexity before', 15],
    ['tokenize', 2],
    ['load', 3],
    ['calibrate', 5],
    ['layer', 50],
    ['write', 8],
    ['done', 2],
    ['perplexity after', 15],
  ],
  perplexity: [
    ['tokenize', 5],
    ['load', 5],
    ['perplexity', 90],
  ],
  generate: [
    ['load', 10],
    ['generate', 90],
  ],
  // benchmark progress carries `overall` (its phases repeat per variant); only the first phase is here
  benchmark: [['tokenize', 1]],
  // serving progress carries `overall` too (one phase per concurrency level)
  serving: [['warm-up', 1]],
};

export interface ProgressStep {
  /** What the notification shows, e.g. "layer 2/4: model.layers.1: 0.27 s, reconstruction error 3.100e-3 (layer output)". */
  message: string;
  /** Percent to add to the bar (0 when it did not move). */
  increment: number;
  /** Short text for the status bar, e.g. "layer 2/4". */
  short: string;
}

/** Keeps how far the bar is, and maps each progress event to the step to report. */
export class ProgressBridge {
  private reported = 0;
  private readonly weights: PhaseWeights;
  private readonly totalWeight: number;

  constructor(kind: JobKind = 'quantize') {
    this.weights = PHASE_WEIGHTS[kind];
    this.totalWeight = this.weights.reduce((sum, [, w]) => sum + w, 0);
  }

  step(p: JobProgress): ProgressStep {
    const short = p.total > 1 ? `${p.phase} ${p.current}/${p.total}` : p.phase;
    const message = p.message ? `${short}: ${p.message}` : short;
    if (p.overall !== undefined) return { message, increment: this.advanceTo(100 * Math.min(1, Math.max(0, p.overall))), short };
    const index = this.weights.findIndex(([phase]) => phase === p.phase);
    if (index < 0) return { message, increment: 0, short };
    const before = this.weights.slice(0, index).reduce((sum, [, w]) => sum + w, 0);
    const fraction = p.total > 0 ? Math.min(1, p.current / p.total) : 0;
    const target = (100 * (before + fraction * this.weights[index][1])) / this.totalWeight;
    return { message, increment: this.advanceTo(target), short };
  }

  /** The increment that brings the bar to `target` percent (never backwards). */
  private advanceTo(target: number): number {
    const increment = Math.max(0, target - this.reported);
    this.reported += increment;
    return increment;
  }
}
