// Measures one variant inside its own process: load, then per batch size a forward pass over the prompt and
// a greedy generation per new-token count, each with its own peak memory, then perplexity. Every timed figure
// is one warm-up run, then `repeat` timed runs: their median, with the fastest and slowest beside it.
import { readLocalModel } from '../../../model';
import { RuntimeModel } from '../../../lib';
import { etaSeconds, seconds } from '../../context';
import { kernelOf } from './kernel';
import { MeasureReport, MeasureRequest, PhaseMeasurement, Timing, timingOf } from './messages';
import { PeakMemory } from './peakMemory';

export type MeasureProgress = (phase: string, current: number, total: number, extra?: { message?: string; etaSeconds?: number }) => void;

/** `batch` sequences of `length` ids each, sequence b from pool[b·length]. */
function sequences(pool: readonly number[], batch: number, length: number): number[] {
  return pool.slice(0, batch * length);
}

/** Seconds of `repeat` timed runs after one untimed warm-up run (first-touch page faults, buffer growth). */
async function timed(repeat: number, run: () => Promise<number>): Promise<Timing> {
  await run();
  const runs: number[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await run());
  return timingOf(runs);
}

export async function measureVariant(req: MeasureRequest, signal: AbortSignal, progress: MeasureProgress): Promise<MeasureReport> {
  const peak = new PeakMemory();
  progress(`load ${req.label}`, 0, 1, { message: req.folder });
  const started = process.hrtime.bigint();
  const model = RuntimeModel.open(req.folder, { kvCache: req.kvCache, lmHead: req.lmHead, adapter: req.adapter });
  await model.logits(req.pool.slice(0, 1));
  const loadSeconds = seconds(started);
  const { tensors } = await readLocalModel(req.folder);
  const kernel = kernelOf(req.folder, tensors, model.config.hiddenSize);
  progress(`load ${req.label}`, 1, 1, { message: `${loadSeconds.toFixed(3)} s, ${kernel}` });

  const phases: PhaseMeasurement[] = [];
  const { promptTokens, newTokens } = req.generate;
  const steps = req.batchSizes.length * (1 + newTokens.length);
  for (const batch of req.batchSizes) {
    const phase = `measure ${req.label} bs${batch}`;
    progress(phase, phases.length, steps, { message: `forward ${batch} × ${req.promptLength} tokens` });
    peak.reset();
    const ids = sequences(req.pool, batch, req.promptLength);
    const forward = await timed(req.repeat, async () => (await model.forwardBatch(ids, batch, { signal })).seconds);
    phases.push({
      batch,
      phase: 'forward',
      promptTokens: req.promptLength,
      newTokens: 0,
      ...forward,
      timedTokens: req.promptLength,
      peakMemoryBytes: peak.read(),
    });

    const prompts = sequences(req.pool, batch, promptTokens);
    for (const n of newTokens) {
      progress(phase, phases.length, steps, { message: `generate ${batch} × (${promptTokens} + ${n}) tokens` });
      peak.reset();
      // The prefill yields the first new token; the decode steps produce the other n − 1.
      const decode = await timed(req.repeat, async () => (await model.generateBatch(prompts, batch, n, { signal })).decodeSeconds);
      phases.push({ batch, phase: 'generate', promptTokens, newTokens: n, ...decode, timedTokens: n - 1, peakMemoryBytes: peak.read() });
    }
  }
  progress(`measure ${req.label}`, steps, steps);

  let perplexity: number | null = null;
  if (req.evaluate) {
    const evalStarted = process.hrtime.bigint();
    const r = await model.perplexity(req.pool.slice(0, req.evaluate.maxTokens), { seq: req.evaluate.seq, signal }, (done, total) => {
      const eta = etaSeconds(evalStarted, done, total);
      progress(`perplexity ${req.label}`, done, total, eta === undefined ? {} : { etaSeconds: eta });
    });
    perplexity = r.perplexity;
  }
  return { loadSeconds, kernel, phases, perplexity };
}
