// The advisor on header-only copies of real checkpoints (test/fixtures/big-models): which candidates fit a budget
// comes from the memory estimate of each candidate's config, the order from the rule advisor.ts states (fits and
// served, fits but refused, does not fit; measured quality in 0.1 % bands; the bandwidth bound), the speed bound
// from the device's bandwidth over weights + KV cache.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  advise,
  deviceById,
  estimateMemory,
  parseBudget,
  perplexityDeltaPercent,
  QUALITY_TABLE,
  QUALITY_TIE_PERCENT,
  resolveModel,
} from '../../../native/model';
import type { Advice, ResolvedModel } from '../../../native/model';
import { writeHeaderOnlyModel } from '../../helpers/headerOnlyModel';

const temp = mkdtempSync(join(tmpdir(), 'qs-advisor-'));
after(() => rmSync(temp, { recursive: true, force: true }));
const GIB = 2 ** 30;

async function bigModel(name: string): Promise<ResolvedModel> {
  const resolved = await resolveModel(writeHeaderOnlyModel(name, temp), {});
  assert.ok(resolved.ok);
  return resolved.model;
}

/** Each row's peak as `estimate` computes it for the config written in a job file. */
function peaks(model: ResolvedModel, seq = 2048): Map<string, { peak: number; read: number }> {
  const out = new Map<string, { peak: number; read: number }>();
  for (const row of QUALITY_TABLE.rows.filter((r) => !r.modelSpecific)) {
    const e = estimateMemory(model, row.config, { batch: 1, seq });
    assert.ok(e.ok, row.id);
    out.set(row.id, { peak: e.value.peakBytes, read: e.value.weightsBytes + e.value.kvCacheBytes });
  }
  return out;
}

const band = (a: Advice): number => Math.round(perplexityDeltaPercent(a.row) / QUALITY_TIE_PERCENT);

function assertOrdered(rows: readonly Advice[]): void {
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1]!, rows[i]!];
    const tier = (x: Advice): number => (!x.fits ? 2 : x.kernel?.path === 'refused' ? 1 : 0);
    assert.ok(tier(a) <= tier(b), `${a.id} before ${b.id}: tier`);
    if (tier(a) !== tier(b)) continue;
    if (tier(a) === 2) {
      assert.ok(a.estimate.peakBytes <= b.estimate.peakBytes, `${a.id} before ${b.id}: peak`);
      continue;
    }
    assert.ok(band(a) <= band(b), `${a.id} before ${b.id}: quality`);
    if (band(a) === band(b)) assert.ok((a.tokensPerSecond ?? 0) >= (b.tokensPerSecond ?? 0), `${a.id} before ${b.id}: speed`);
  }
}

describe('advisor on Llama-3.1-8B', () => {
  let model: ResolvedModel;
  before(async () => (model = await bigModel('llama-3.1-8b')));

  it('6 GiB on an L4: the candidates whose estimated peak fits come first, by measured quality, the rest by peak', () => {
    const l4 = deviceById('l4')!;
    const result = advise(model, { budgetBytes: 6 * GIB, budgetLabel: '6 GiB', bandwidthBytesPerSecond: l4.bandwidthBytesPerSecond });
    assert.ok(result.ok);
    const rows = result.value;
    const expected = peaks(model);
    // the demo model's own recipes (one layer wider, by hand or by its measurement) are measured, not ranked on other models
    const specific = QUALITY_TABLE.rows.filter((r) => r.modelSpecific).map((r) => r.id);
    assert.deepEqual(specific, [
      'gptq-3bit-g128-mse-layer0-4bit',
      'gptq-3bit-g128-mse-gptaq-layer0-4bit',
      'gptq-3bit-g128-mse-gptaq-mixed-3.5',
      'gptq-3bit-g128-asym-signround-layer0-4bit',
      'gptq-3bit-g128-asym-signround-mixed-3.5',
    ]);
    assert.deepEqual(
      rows.filter((a) => specific.includes(a.id)),
      [],
    );
    const fitting = [...expected].filter(([, e]) => e.peak <= 6 * GIB).map(([id]) => id);
    // the budget splits the table: the 2- and 3-bit rows fit, 4-bit and up do not
    assert.ok(fitting.length > 0 && fitting.length < rows.length);
    assert.deepEqual(new Set(rows.slice(0, fitting.length).map((a) => a.id)), new Set(fitting));
    for (const a of rows) {
      assert.equal(a.estimate.peakBytes, expected.get(a.id)!.peak, a.id);
      assert.equal(a.fits, expected.get(a.id)!.peak <= 6 * GIB, a.id);
      const bound = a.row.notBandwidthBound ? undefined : l4.bandwidthBytesPerSecond! / expected.get(a.id)!.read;
      assert.equal(a.tokensPerSecond, bound, a.id);
      assert.ok(a.row.bits <= 3 || !a.fits, `${a.id} fits 6 GiB with ${a.row.bits} bits`);
    }
    assertOrdered(rows);
    assert.deepEqual(
      rows.map((a) => a.rank),
      rows.map((_, i) => i + 1),
    );
    // the best measured quality among what fits leads
    const best = Math.min(...rows.filter((a) => a.fits).map(band));
    assert.equal(band(rows[0]!), best);
    assert.equal(rows[0]!.why, 'first: fits and has the best measured quality');
  });

  it('ties in quality are broken by the speed bound and said so', () => {
    const result = advise(model, { budgetBytes: 80 * GIB, budgetLabel: '80 GiB', bandwidthBytesPerSecond: 3.35e12 });
    assert.ok(result.ok);
    const rows = result.value;
    assertOrdered(rows);
    const tied = rows.filter((a, i) => i > 0 && band(a) === band(rows[i - 1]!));
    assert.ok(tied.length > 0);
    for (const a of tied) assert.match(a.why, /^quality (and speed )?tie with #\d+|^quality, speed and peak tie with #\d+$/, a.id);
    // fp16 ties with the 8-bit rows on quality and reads twice the bytes: it follows them; LLM.int8's decode has no
    // bandwidth bound (compute-bound kernel), so it follows every bounded row of its band
    const fp16 = rows.findIndex((a) => a.id === 'fp16');
    const gptq8 = rows.findIndex((a) => a.id === 'gptq-8bit-g128');
    const int8 = rows.findIndex((a) => a.id === 'bnb-int8');
    assert.ok(band(rows[fp16]!) === band(rows[gptq8]!) && band(rows[fp16]!) === band(rows[int8]!));
    assert.ok(gptq8 < fp16 && fp16 < int8);
    assert.equal(rows[int8]!.tokensPerSecond, undefined);
    assert.match(rows[int8]!.basis.speed, /^no bound: bitsandbytes 0\.50's LLM\.int8 matmul/);
  });

  it('llama.cpp refuses what it cannot convert: those rows follow every served row that fits', () => {
    const result = advise(model, { budgetBytes: 24 * GIB, budgetLabel: '24 GiB', target: 'llama.cpp' });
    assert.ok(result.ok);
    const rows = result.value;
    assertOrdered(rows);
    const refused = rows.filter((a) => a.kernel?.path === 'refused');
    assert.ok(refused.some((a) => a.id === 'gptq-3bit-g128') && refused.some((a) => a.id === 'awq-4bit-g128'));
    const lastServed = Math.max(...rows.map((a, i) => (a.fits && a.kernel?.path !== 'refused' ? i : -1)));
    for (const a of refused) assert.ok(rows.indexOf(a) > lastServed, a.id);
    assert.match(refused[0]!.basis.deployment!, /^llama\.cpp .*: none, refused/);
  });
});

it('Mixtral-8x7B on an H100 80 GB: fp16 does not fit, 4-bit does', async () => {
  const model = await bigModel('mixtral-8x7b');
  const h100 = deviceById('h100-80gb')!;
  const result = advise(model, { budgetBytes: h100.memoryBytes, budgetLabel: h100.label });
  assert.ok(result.ok);
  const byId = new Map(result.value.map((a) => [a.id, a]));
  assert.equal(byId.get('fp16')!.fits, false);
  assert.equal(byId.get('gptq-4bit-g128')!.fits, true);
  assert.equal(result.value.at(-1)!.id, 'fp16');
  assertOrdered(result.value);
});

it('this machine: the available memory (capped by QUANTSTUDIO_MEMORY_AVAILABLE), no bandwidth, so no speed', () => {
  const device = deviceById('this-machine', { QUANTSTUDIO_MEMORY_AVAILABLE: String(100 * 2 ** 20) })!;
  assert.equal(device.memoryBytes, 100 * 2 ** 20);
  assert.equal(device.bandwidthBytesPerSecond, undefined);
  assert.match(device.source, /memory bandwidth unknown/);
  assert.equal(deviceById('a100-41gb'), undefined);
});

it('budgets: binary and decimal units, and a clear error otherwise', () => {
  assert.equal(parseBudget('6GiB'), 6 * GIB);
  assert.equal(parseBudget('24 GB'), 24e9);
  assert.equal(parseBudget('512MiB'), 512 * 2 ** 20);
  assert.equal(parseBudget('6'), "budget '6' is not a size: write e.g. 6GiB, 24GB or 512MiB");
  assert.equal(parseBudget('0GiB'), "budget '0GiB' must be more than zero");
});
