// Turns the worker's progress events into what a notification progress bar needs: a message and an
// increment (VS Code adds increments up to 100). Each phase owns a share of the bar (data below), so the
// bar moves steadily from perplexity-before through the layers to perplexity-after. No `vscode` import.
import type { JobProgress } from '../../jobs/runner';

/** Share of the bar per phase; phases a job skips (no evaluation) simply never fill theirs. */
const PHASE_WEIGHTS: ReadonlyArray<readonly [phase: string, weight: number]> = [
  ['perplexity before', 15],
  ['tokenize', 2],
  ['load', 3],
  ['calibrate', 5],
  ['layer', 50],
  ['write', 8],
  ['done', 2],
  ['perplexity after', 15],
];

const TOTAL_WEIGHT = PHASE_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

export interface ProgressStep {
  /** What the notification shows, e.g. "layer 2/4: model.layers.1: 0.27 s, output error 3.1e-3". */
  message: string;
  /** Percent to add to the bar (0 when it did not move). */
  increment: number;
  /** Short text for the status bar, e.g. "layer 2/4". */
  short: string;
}

/** Keeps how far the bar is, and maps each progress event to the step to report. */
export class ProgressBridge {
  private reported = 0;

  step(p: JobProgress): ProgressStep {
    const short = p.total > 1 ? `${p.phase} ${p.current}/${p.total}` : p.phase;
    const message = p.message ? `${short}: ${p.message}` : short;
    const index = PHASE_WEIGHTS.findIndex(([phase]) => phase === p.phase);
    if (index < 0) return { message, increment: 0, short };
    const before = PHASE_WEIGHTS.slice(0, index).reduce((sum, [, w]) => sum + w, 0);
    const fraction = p.total > 0 ? Math.min(1, p.current / p.total) : 0;
    const target = (100 * (before + fraction * PHASE_WEIGHTS[index][1])) / TOTAL_WEIGHT;
    const increment = Math.max(0, target - this.reported);
    this.reported += increment;
    return { message, increment, short };
  }
}
