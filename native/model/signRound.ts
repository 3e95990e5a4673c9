// Learned rounding (AutoRound 0.16's SignRound) as a GPTQ job option: each decoder layer's rounding offsets and group
// ranges are tuned by the engine (native/src/pipeline/sign_round_step.cc) instead of GPTQ's error feedback. Here: the
// job's `signRound` resolved to what the engine reads, and the configs it refuses before any work.
import { QuantizeConfigError } from './pipelinePlan';
import type { PipelinePlan } from './pipelinePlan';
import type { RuntimeConfig } from './runtimeConfig';

/** The job's `signRound` (schemas/job.schema.json); a missing or null field takes its default. */
export interface SignRoundOptions {
  iters?: number;
  lr?: number | null;
  minmaxLr?: number | null;
  batchSize?: number;
}

/** What the engine reads (options.signRound in native/src/bindings/pipeline_binding.cc): every field set. */
export interface SignRoundPlan {
  iters: number;
  lr: number;
  minmaxLr: number;
  batchSize: number;
}

/** schemas/job.schema.json's defaults of `signRound` (a unit test holds them equal): AutoRound's. */
export const signRoundDefaults = { iters: 200, batchSize: 8 } as const;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isStep = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** The engine's settings: lr 1 / iters unless given (AutoRound's), minmaxLr lr unless given. */
export function resolveSignRound(o: SignRoundOptions): SignRoundPlan {
  const bad = (key: string, what: string, v: unknown): never => {
    throw new QuantizeConfigError(`signRound.${key}: must be ${what} (got ${JSON.stringify(v)})`);
  };
  const iters = o.iters ?? signRoundDefaults.iters;
  const batchSize = o.batchSize ?? signRoundDefaults.batchSize;
  if (!isCount(iters)) bad('iters', 'an integer of at least 1', iters);
  if (!isCount(batchSize)) bad('batchSize', 'an integer of at least 1', batchSize);
  const lr = o.lr ?? 1 / iters;
  if (!isStep(lr)) bad('lr', 'a number above 0', lr);
  const minmaxLr = o.minmaxLr ?? lr;
  if (!isStep(minmaxLr)) bad('minmaxLr', 'a number above 0', minmaxLr);
  return { iters, lr, minmaxLr, batchSize };
}

/** Refuses a plan learned rounding cannot run as written: not GPTQ, or a config key that sets what it learns (each
 *  group's range, the rounding). act_group_aware (on by default) only orders GPTQ's error feedback, which learned
 *  rounding does not run: it is accepted and has no effect, as in the engine. */
export function checkSignRound(config: Record<string, unknown>, plan: PipelinePlan): void {
  if (plan.method !== 'gptq') throw new QuantizeConfigError('signRound: learned rounding writes GPTQ checkpoints only (algorithm gptq)');
  const remove = (key: string, where = 'the config'): never => {
    throw new QuantizeConfigError(`signRound: remove ${key} from ${where}; learned rounding sets each group's range and rounding itself`);
  };
  if (plan.descAct) remove('desc_act');
  const ordered = plan.dynamic?.find((rule) => rule.descAct === true);
  if (ordered) remove('desc_act', `the config's dynamic ${JSON.stringify(ordered.key)}`);
  if ((plan.mse ?? 0) > 0) remove('mse');
  if (config['gptaq'] !== undefined && config['gptaq'] !== null) remove('gptaq');
}

/** Why the engine cannot differentiate this model's decoder layers, as it says it (native/src/pipeline/block_gradient.cc
 *  BlockGradientUnsupported, the same conditions in the same order); undefined when it can. */
export function signRoundUnsupported(c: RuntimeConfig): string | undefined {
  if (c.family !== 'llama') return `${c.architecture} is not a Llama-family model`;
  if ((c.moe?.experts ?? 0) > 0) return `${c.architecture} is a Mixture-of-Experts model`;
  if (c.fusedProjections) return `${c.architecture} fuses its projections (qkv_proj, gate_up_proj)`;
  if (c.sandwichNorms) return `${c.architecture} norms its attention and MLP outputs (sandwich norms)`;
  if ((c.attentionSoftcap ?? 0) > 0) return `${c.architecture} soft-caps its attention scores`;
  return undefined;
}

/** Refuses a model whose layers learned rounding cannot run on, with the engine's message. */
export function checkSignRoundModel(model: RuntimeConfig): void {
  const why = signRoundUnsupported(model);
  if (why)
    throw new QuantizeConfigError(
      `signRound: ${why}; learned rounding runs on dense Llama-family layers (Llama, Mistral, Qwen2/3); quantize this model without signRound`,
    );
}
