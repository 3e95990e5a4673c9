// Learned rounding (signRound) as a job option, without the engine: the schema's defaults and the settings the engine
// gets, the configs refused before any work, the worker's field checks and backend refusal, the job file passing it
// through, and its work and memory in the quantize estimate on tiny-llama's shapes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { jobFromJobFile } from '../../../client/src/jobs/quantizeJobFile';
import { planFromConfig, quantizeModel } from '../../../native/lib/quantize';
import {
  checkSignRound,
  estimateCpuQuantize,
  quantizeJobOptions,
  quantizeWork,
  quantSettingsOf,
  resolveModel,
  resolveSignRound,
  signRoundDefaults,
} from '../../../native/model';
import type { QuantSettings, ResolvedModel } from '../../../native/model';
import { signRoundOf } from '../../../native/worker/handlers/quantize';
import { checkBackendOptions } from '../../../native/worker/jobBackend';
import { validateJob } from '../../../native/worker/validateJob';
import { H, HD, HEADS, I, KV, L, LINEARS, repo, tinyLlamaDir } from './tinyLlamaShapes';

const F32 = 4;
const config = { quant_method: 'gptq', bits: 3, group_size: 128, sym: false, desc_act: false };
const scratch = mkdtempSync(join(tmpdir(), 'qs-sign-round-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test("signRound's defaults are the job schema's: iters and batchSize AutoRound's, lr and minmaxLr derived", () => {
  const schema = JSON.parse(readFileSync(join(repo, 'schemas', 'job.schema.json'), 'utf8'));
  const props = schema.properties.signRound.properties;
  const defaults = Object.fromEntries(
    Object.entries(props).flatMap(([k, v]) => ('default' in (v as object) ? [[k, (v as { default: unknown }).default]] : [])),
  );
  assert.deepEqual(defaults, { ...signRoundDefaults });
  assert.deepEqual(Object.keys(props), ['iters', 'lr', 'minmaxLr', 'batchSize']);
});

test('the engine gets every field: lr 1 / iters unless given, minmaxLr lr unless given', () => {
  assert.deepEqual(resolveSignRound({}), { iters: 200, lr: 1 / 200, minmaxLr: 1 / 200, batchSize: 8 });
  assert.deepEqual(resolveSignRound({ iters: 50 }), { iters: 50, lr: 0.02, minmaxLr: 0.02, batchSize: 8 });
  assert.deepEqual(resolveSignRound({ iters: 50, lr: 0.01, batchSize: 4 }), { iters: 50, lr: 0.01, minmaxLr: 0.01, batchSize: 4 });
  assert.deepEqual(resolveSignRound({ iters: 40, lr: null, minmaxLr: 0.003 }), { iters: 40, lr: 0.025, minmaxLr: 0.003, batchSize: 8 });
  assert.throws(() => resolveSignRound({ iters: 0 }), {
    name: 'QuantizeConfigError',
    message: 'signRound.iters: must be an integer of at least 1 (got 0)',
  });
  assert.throws(() => resolveSignRound({ batchSize: 2.5 }), /signRound\.batchSize: must be an integer of at least 1 \(got 2\.5\)/);
  assert.throws(() => resolveSignRound({ lr: -1 }), /signRound\.lr: must be a number above 0 \(got -1\)/);
  assert.throws(() => resolveSignRound({ minmaxLr: 0 }), /signRound\.minmaxLr: must be a number above 0 \(got 0\)/);
});

test('refused before any work: not GPTQ, or a config key that sets what learned rounding learns', async () => {
  const why = "; learned rounding sets each group's range and rounding itself";
  const refused =
    (c: Record<string, unknown>, algorithm?: 'rtn'): (() => void) =>
    () =>
      checkSignRound(c, planFromConfig(c, algorithm));
  assert.doesNotThrow(refused(config));
  // act_group_aware (on by default) orders only GPTQ's error feedback, which learned rounding does not run.
  assert.doesNotThrow(refused({ ...config, gptaq: null, mse: 0, act_group_aware: true }));
  assert.throws(refused(config, 'rtn'), {
    name: 'QuantizeConfigError',
    message: 'signRound: learned rounding writes GPTQ checkpoints only (algorithm gptq)',
  });
  assert.throws(refused({ quant_method: 'awq', bits: 4, group_size: 128 }), /signRound: learned rounding writes GPTQ checkpoints only/);
  for (const [extra, key] of [
    [{ desc_act: true }, 'desc_act'],
    [{ mse: 2.4 }, 'mse'],
    [{ gptaq: { alpha: 0.25 } }, 'gptaq'],
  ] as const)
    assert.throws(refused({ ...config, ...extra }), { message: `signRound: remove ${key} from the config${why}` });
  assert.throws(refused({ ...config, dynamic: { '+:.*down_proj': { desc_act: true } } }), {
    message: `signRound: remove desc_act from the config's dynamic "+:.*down_proj"${why}`,
  });
  // The library checks before tokenizing or loading the engine; an adapter is no reason to refuse.
  await assert.rejects(
    quantizeModel({ model: tinyLlamaDir, config: { ...config, mse: 2 }, out: join(scratch, 'out'), signRound: { iters: 10 } }),
    { name: 'QuantizeConfigError', message: `signRound: remove mse from the config${why}` },
  );
});

test('the worker checks options.signRound field by field, and the python backend refuses it', () => {
  assert.equal(signRoundOf(undefined), undefined);
  assert.deepEqual(signRoundOf({}), {});
  assert.deepEqual(signRoundOf({ iters: 50, lr: null, minmaxLr: 0.01, batchSize: 4 }), { iters: 50, minmaxLr: 0.01, batchSize: 4 });
  for (const [value, message] of [
    [{ iters: 0 }, 'options.signRound.iters must be a positive integer, got 0'],
    [{ iters: '200' }, 'options.signRound.iters must be a positive integer, got "200"'],
    [{ lr: 0 }, 'options.signRound.lr must be a number above 0 (or null: 1 / iters), got 0'],
    [{ minmaxLr: 'fast' }, 'options.signRound.minmaxLr must be a number above 0 (or null: lr), got "fast"'],
    [{ batchSize: 1.5 }, 'options.signRound.batchSize must be a positive integer, got 1.5'],
    [{ iter: 10 }, 'options.signRound.iter must be absent (known: iters, lr, minmaxLr, batchSize), got 10'],
  ] as const)
    assert.throws(() => signRoundOf(value), { code: 'INVALID_JOB', message, where: message.split(' ')[0] });
  assert.throws(() => validateJob({ kind: 'quantize', model: 'm', options: { out: 'o', signRound: 200 } }), /options\.signRound must be/);
  assert.throws(() => checkBackendOptions({ signRound: { iters: 10 } }, { name: 'python', python: 'python3' }), {
    where: 'options.signRound',
    message: `options.signRound is the engine's learned rounding; GPTQModel 7.7 runs GPTQ's error feedback (remove it, or use backend "engine")`,
  });
  assert.doesNotThrow(() => checkBackendOptions({ signRound: { iters: 10 } }, { name: 'engine' }));
});

test('a job file passes signRound through to the worker, beside mixedPrecision', () => {
  const file = join(scratch, 'tiny.quant.json');
  const signRound = { iters: 50, batchSize: 4 };
  const mixedPrecision = { bitsPerWeight: 3.5 };
  writeFileSync(file, JSON.stringify({ model: tinyLlamaDir, quantization_config: config, output: 'out', signRound, mixedPrecision }));
  const job = jobFromJobFile(file);
  assert.ok(typeof job !== 'string', String(job));
  assert.deepEqual(validateJob(job).options.signRound, signRound);
  assert.deepEqual(job.options.mixedPrecision, mixedPrecision);
});

async function tinyLlama(): Promise<{ model: ResolvedModel; settings: QuantSettings }> {
  const resolved = await resolveModel(tinyLlamaDir, {});
  assert.ok(resolved.ok);
  const settings = quantSettingsOf(config, 'config');
  assert.ok(settings.ok);
  return { model: resolved.model, settings: settings.value };
}

const options = {
  algorithm: 'gptq' as const,
  samples: 16,
  seqLen: 128,
  trueSequential: true,
  threads: 1,
  tokenizerBytes: 0,
  calibrationTextBytes: 0,
};
const layerWeights = LINEARS.reduce((a, [, rows, cols]) => a + rows * cols, 0);

test("the quantize estimate's signRound work: iters × the layer forward and backward on a batch, one more pass, no Hessians", async () => {
  const { model, settings } = await tinyLlama();
  const plain = quantizeWork(model, settings, options);
  const tuned = quantizeWork(model, settings, { ...options, signRound: { iters: 50, batchSize: 4 } });
  assert.ok(plain.ok && tuned.ok);
  assert.ok(plain.value.hessianMac > 0 && plain.value.updateMac > 0);
  for (const phase of ['hessianMac', 'choleskyCube', 'updateMac'] as const) assert.equal(tuned.value[phase], 0, phase);
  assert.deepEqual(tuned.value.choleskyCols, []);
  assert.equal(tuned.value.weightElement, plain.value.weightElement, 'packed as GPTQ packs');
  // Per layer and step (FLOPs, 2 a multiply-add): the linears 3× (forward; input and weight gradients) on 4 × 128
  // tokens and attention 7 × batch × heads × seq² × head_dim (full matrices), plus the full-precision pass; and four
  // fake-quantization passes over the layer's weights per step.
  const batchTokens = 4 * 128;
  const step = 2 * (3 * layerWeights * batchTokens + 7 * 4 * HEADS * 128 * 128 * HD);
  const fpPass = 2 * 16 * 128 * (layerWeights + 128 * HEADS * HD);
  const expected = L * (50 * step + fpPass);
  const added = tuned.value.forwardFlop - plain.value.forwardFlop;
  assert.ok(Math.abs(added - expected) <= 1e-9 * expected, `${added} against ${expected}`);
  assert.equal(tuned.value.awqFakeElement - plain.value.awqFakeElement, 4 * 50 * L * layerWeights);
  // A batch larger than the calibration is all of it; only GPTQ jobs tune.
  const whole = quantizeWork(model, settings, { ...options, signRound: { iters: 50, batchSize: 64 } });
  const sixteen = quantizeWork(model, settings, { ...options, signRound: { iters: 50, batchSize: 16 } });
  assert.ok(whole.ok && sixteen.ok);
  assert.equal(whole.value.forwardFlop, sixteen.value.forwardFlop);
  const rtn = quantizeWork(model, settings, { ...options, algorithm: 'rtn' });
  const rtnTuned = quantizeWork(model, settings, { ...options, algorithm: 'rtn', signRound: { iters: 50, batchSize: 4 } });
  assert.ok(rtn.ok && rtnTuned.ok);
  assert.deepEqual(rtnTuned.value, rtn.value);
});

test("the quantize estimate's signRound memory: the full-precision stream, five fp32 buffers a weight, one linear's transpose and one batch, no Hessians", async () => {
  const { model, settings } = await tinyLlama();
  const r = estimateCpuQuantize(model, settings, { ...options, signRound: { iters: 50, batchSize: 4 } });
  assert.ok(r.ok);
  const a = F32 * 16 * 128 * H;
  const batch = F32 * 4 * 128 * (10 * H + 4 * HEADS * HD + 4 * KV * HD + 5 * I);
  const label = 'signRound: full-precision stream, learned offsets and one batch (largest step)';
  assert.deepEqual(
    r.value.breakdown.find((l) => l.label === label),
    { label, bytes: 2 * a + 5 * F32 * layerWeights + F32 * I * H + batch, count: 4 },
  );
  assert.equal(r.value.activationBytes, 2 * a + 2 * a + 5 * F32 * layerWeights + F32 * I * H + batch);
});

test("a job's signRound reaches the estimate with the schema's defaults, for GPTQ jobs only", () => {
  const settings = quantSettingsOf(config, 'config');
  assert.ok(settings.ok);
  const machine = { threads: 1, tokenizerBytes: 0, textBytes: () => 0 };
  const job = (signRound: unknown, algorithm?: string) => quantizeJobOptions({ config, algorithm, signRound }, settings.value, machine);
  assert.deepEqual(job({ iters: 50 })?.signRound, { iters: 50, batchSize: 8 });
  assert.deepEqual(job({})?.signRound, { iters: 200, batchSize: 8 });
  assert.equal(job(undefined)?.signRound, undefined);
  assert.equal(job({ iters: 50 }, 'rtn')?.signRound, undefined);
});
