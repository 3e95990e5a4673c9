// What a live panel shows while its job runs, computed on the extension side so the webview script only places
// text: the phase line, the per-layer rows of a quantize job, the streamed tokens' rate.
import type { JobProgress } from '../../jobs';
import { DASH, fixedOr } from './format';

export function progressText(p: JobProgress): string {
  const eta = p.etaSeconds !== undefined && Number.isFinite(p.etaSeconds) ? ` (about ${Math.ceil(p.etaSeconds)} s left)` : '';
  return `${p.phase} ${p.current}/${p.total}${p.message ? `: ${p.message}` : ''}${eta}`;
}

/** The cells of the layer table for a quantize 'layer' event: position, layer, seconds, reconstruction error. */
export function layerCells(p: JobProgress): [string, string, string, string] | undefined {
  if (p.phase !== 'layer') return undefined;
  const d = p.detail ?? {};
  const error = d.error !== undefined && Number.isFinite(d.error) ? d.error.toExponential(3) : DASH;
  return [`${p.current}/${p.total}`, d.layer ?? p.message ?? `layer ${p.current}`, fixedOr(d.seconds, 2), error];
}

/** Tokens per second of a stream, from the first token on (the prompt's prefill time is not in it). */
export class TokenRate {
  private count = 0;
  private first: number | undefined;
  private last: number | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Counts one streamed chunk (the engine sends one per decoded token, fewer for multi-byte characters). */
  add(): void {
    const t = this.now();
    this.first ??= t;
    this.last = t;
    this.count++;
  }

  get tokens(): number {
    return this.count;
  }

  /** Undefined until two tokens have arrived some time apart. */
  get perSecond(): number | undefined {
    if (this.first === undefined || this.last === undefined || this.count < 2 || this.last <= this.first) return undefined;
    return ((this.count - 1) * 1000) / (this.last - this.first);
  }

  get text(): string {
    const rate = this.perSecond;
    return rate === undefined ? DASH : `${rate.toFixed(1)} tokens/s`;
  }
}

/** The messages the extension posts to a live panel's script (the script's only inputs). */
export type LiveMessage =
  | { type: 'progress'; text: string; current: number; total: number }
  | { type: 'layer'; cells: string[] }
  | { type: 'token'; text: string; count: string; rate: string }
  | { type: 'fail'; message: string };

/** Everything a live panel was sent, kept compact, so a page that (re)loads gets the whole story: the page says
 *  'ready' when its script runs, and the panel replays this before sending anything new. */
export class LiveLog {
  private readonly messages: LiveMessage[] = [];

  add(message: LiveMessage): void {
    const last = this.messages[this.messages.length - 1];
    if (message.type === 'progress') {
      // only the latest phase line matters
      const previous = this.messages.findIndex((m) => m.type === 'progress');
      if (previous >= 0) this.messages.splice(previous, 1);
      this.messages.push(message);
    } else if (message.type === 'token' && last?.type === 'token') {
      this.messages[this.messages.length - 1] = { ...message, text: last.text + message.text };
    } else {
      this.messages.push(message);
    }
  }

  replay(): readonly LiveMessage[] {
    return this.messages;
  }
}
