// What a quantize job reports while the engine works through the layers. The engine speaks only when a layer
// is done (a layer of the demo model takes ~15 s on 128 calibration windows), so between its events a tick
// each second names the layer running and how long it has run, and once a layer is done, about how long the
// rest will take. Every message calls the per-layer figure by the one name the panels use: reconstruction error.
import type { QuantizeProgress } from '../../lib';

/** A progress event as the job context takes it. */
export interface ProgressEvent {
  phase: string;
  current: number;
  total: number;
  message?: string;
  etaSeconds?: number;
  detail?: { layer: string; seconds: number; error: number };
}

/** "model.layers.0: 16.74 s, reconstruction error 5.807e-3 (layer output)" */
export function layerMessage(layer: NonNullable<QuantizeProgress['layer']>): string {
  const of = layer.errorKind === 'output' ? 'layer output' : 'weights';
  return `${layer.name}: ${layer.seconds.toFixed(2)} s, reconstruction error ${layer.error.toExponential(3)} (${of})`;
}

export class LayerProgress {
  private layersStarted: number | undefined;
  private layerStarted = 0;
  private done = 0;
  private total = 0;
  private finished = false;
  private calibrated = false;
  /** signRound's steps on the layer running (the engine reports each one; the ticks name the latest). */
  private tuning: { done: number; total: number } | undefined;
  /** mixedPrecision's measurement, before the layers: when it started and the layers measured so far. */
  private allocating: { started: number; last: number; done: number; total: number } | undefined;

  /** calibration: windows × tokens of the calibration set, named by the ticks once the engine says it calibrates. */
  constructor(private readonly calibration: { windows: number; tokens: number }) {}

  /** The event for an engine event, `now` in seconds; undefined for a signRound step, which the next tick names. */
  onEngine(p: QuantizeProgress, now: number): ProgressEvent | undefined {
    if (p.phase === 'round') {
      this.tuning = { done: p.done, total: p.total };
      return undefined;
    }
    if (p.phase === 'allocate') {
      this.allocating = { started: this.allocating?.started ?? now, last: now, done: p.done, total: p.total };
      return {
        phase: p.phase,
        current: p.done,
        total: p.total,
        message: `sensitivity to the wider width measured on ${p.done} of ${p.total} layers`,
      };
    }
    if (p.phase === 'load') this.allocating = undefined;
    if (p.phase === 'calibrate' || (p.phase === 'load' && this.layersStarted === undefined)) this.layersStarted = this.layerStarted = now;
    if (p.phase === 'calibrate') this.calibrated = true;
    if (p.phase === 'write' || p.phase === 'done') this.finished = true;
    if (p.phase !== 'layer' || !p.layer) return { phase: p.phase, current: p.done, total: p.total };
    this.done = p.done;
    this.total = p.total;
    this.layerStarted = now;
    this.tuning = undefined;
    const eta = this.eta(now);
    return {
      phase: 'layer',
      current: p.done,
      total: p.total,
      message: layerMessage(p.layer),
      ...(eta === undefined ? {} : { etaSeconds: eta }),
      detail: { layer: p.layer.name, seconds: p.layer.seconds, error: p.layer.error },
    };
  }

  /** The tick between engine events, or undefined before the layers start and after the last one. */
  tick(now: number, layers: number): ProgressEvent | undefined {
    const a = this.allocating;
    if (a && a.done < a.total) {
      const message = `measuring model.layers.${a.done}'s sensitivity to the wider width, ${Math.floor(now - a.last)} s so far`;
      const eta = a.done > 0 ? Math.max(0, ((a.last - a.started) / a.done) * (a.total - a.done) - (now - a.last)) : undefined;
      return { phase: 'allocate', current: a.done, total: a.total, message, ...(eta === undefined ? {} : { etaSeconds: eta }) };
    }
    if (this.layersStarted === undefined || this.finished) return undefined;
    const total = this.total || layers;
    if (this.done >= total) return undefined;
    const on = this.calibrated ? ` on ${this.calibration.windows} calibration windows of ${this.calibration.tokens} tokens` : '';
    const step = this.tuning ? `, signRound step ${this.tuning.done} of ${this.tuning.total}` : '';
    const message = `model.layers.${this.done} running${on}${step}, ${Math.floor(now - this.layerStarted)} s so far`;
    const eta = this.eta(now);
    return { phase: 'quantize', current: this.done, total, message, ...(eta === undefined ? {} : { etaSeconds: eta }) };
  }

  /** The finished layers' mean time for each layer left, less what the running one has had; unknown before one is done. */
  private eta(now: number): number | undefined {
    if (this.layersStarted === undefined || this.done === 0) return undefined;
    const perLayer = (this.layerStarted - this.layersStarted) / this.done;
    return Math.max(0, perLayer * (this.total - this.done) - (now - this.layerStarted));
  }
}
