// The shipped quality table (native/model/quantQuality.json) is the one source: README.md's quality table is
// exactly its rendering, and every row's config reads as the method its label names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  describeSettings,
  estimateWithSettings,
  QUALITY_TABLE,
  qualityTableMarkdown,
  quantSettingsOf,
  resolveModel,
} from '../../../native/model';

const root = join(__dirname, '..', '..', '..', '..');

test("README.md's quality table is the shipped table, row for row", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('| method | bits per weight | perplexity | quantize time | loads upstream in | upstream figures |');
  assert.ok(start >= 0, 'README.md has the quality table');
  const end = readme.indexOf('\n\n', start);
  assert.equal(readme.slice(start, end), qualityTableMarkdown());
});

test('ids are unique, fp16 is the one unquantized row, and each config reads as the method its label names', () => {
  const ids = QUALITY_TABLE.rows.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(
    QUALITY_TABLE.rows.filter((r) => !r.config).map((r) => r.id),
    ['fp16'],
  );
  for (const row of QUALITY_TABLE.rows) {
    if (!row.config) continue;
    const settings = quantSettingsOf(row.config, row.id);
    assert.ok(settings.ok, row.id);
    const described = describeSettings(settings.value);
    const method = row.label.split(' ')[0]!;
    // RTN writes the GPTQ format; LLM.int8 and NF4/FP4 are bitsandbytes'
    const expected = row.algorithm === 'rtn' ? 'GPTQ' : method;
    assert.ok(described.startsWith(expected), `${row.id}: ${described} against ${row.label}`);
    assert.equal('bits' in settings.value ? settings.value.bits : row.bits, row.bits, row.id);
  }
});

test("each row's bits per weight is the estimate's for its config on the demo model (a mixedPrecision row's within its budget)", async () => {
  const resolved = await resolveModel(join(root, 'examples', 'tiny-llama'), {});
  assert.ok(resolved.ok);
  for (const row of QUALITY_TABLE.rows) {
    if (!row.config) {
      assert.equal(row.bitsPerWeight, 16, row.id);
      continue;
    }
    const settings = quantSettingsOf(row.config, row.id);
    assert.ok(settings.ok, row.id);
    const estimate = estimateWithSettings(resolved.model, settings.value, { batch: 1, seq: 256 });
    assert.ok(estimate.ok, row.id);
    const bpw = Math.round(estimate.value.bitsPerWeight! * 100) / 100;
    // mixedPrecision widens layers the run measures: between the config's own width and the budget.
    if (row.mixedPrecision) assert.ok(row.bitsPerWeight > bpw && row.bitsPerWeight <= row.mixedPrecision.bitsPerWeight, row.id);
    else assert.equal(row.bitsPerWeight, bpw, row.id);
  }
});

test('what loads each row names the upstream loader its format and symmetry take', () => {
  for (const row of QUALITY_TABLE.rows) {
    const c = row.config;
    const expected = !c
      ? /^transformers 5\.23$/
      : c.quant_method === 'bitsandbytes'
        ? /^transformers 5\.23 \+ bitsandbytes 0\.50$/
        : c.quant_method === 'awq'
          ? /^transformers 5\.23 /
          : c.sym === false
            ? /^GPTQModel 7\.7 with checkpoint_format gptq_v2; in the gptq v1 format, .* refuses sym: false there/
            : /^GPTQModel 7\.7$/;
    assert.match(row.loadsUpstream, expected, row.id);
  }
});

test('examples/configs/tiny-llama-gptq-3bit-mixed.quant.json runs the mixed-precision GPTAQ row, written as gptq_v2', () => {
  const job = JSON.parse(readFileSync(join(root, 'examples', 'configs', 'tiny-llama-gptq-3bit-mixed.quant.json'), 'utf8'));
  const row = QUALITY_TABLE.rows.find((r) => r.id === 'gptq-3bit-g128-mse-gptaq-mixed-3.5')!;
  assert.deepEqual(job.quantization_config, { ...row.config, checkpoint_format: 'gptq_v2' });
  assert.deepEqual(job.mixedPrecision, row.mixedPrecision);
  // The measurement widens layer 0 on the demo model: the same checkpoint as the row that widens it by hand.
  const byHand = QUALITY_TABLE.rows.find((r) => r.id === 'gptq-3bit-g128-mse-gptaq-layer0-4bit')!;
  assert.deepEqual({ ...row.config, dynamic: byHand.config!['dynamic'] }, byHand.config);
  assert.deepEqual([row.perplexity, row.bitsPerWeight], [byHand.perplexity, byHand.bitsPerWeight]);
});

test('examples/configs/tiny-llama-gptq-3bit-signround.quant.json runs the signRound mixed-precision row, written as gptq_v2', () => {
  const job = JSON.parse(readFileSync(join(root, 'examples', 'configs', 'tiny-llama-gptq-3bit-signround.quant.json'), 'utf8'));
  const row = QUALITY_TABLE.rows.find((r) => r.id === 'gptq-3bit-g128-asym-signround-mixed-3.5')!;
  assert.deepEqual(job.quantization_config, { ...row.config, checkpoint_format: 'gptq_v2' });
  assert.deepEqual([job.signRound, job.mixedPrecision], [row.signRound, row.mixedPrecision]);
  // The measurement widens layer 0 on the demo model: the same checkpoint as the row that widens it by hand.
  const byHand = QUALITY_TABLE.rows.find((r) => r.id === 'gptq-3bit-g128-asym-signround-layer0-4bit')!;
  assert.deepEqual({ ...row.config, dynamic: byHand.config!['dynamic'] }, byHand.config);
  assert.deepEqual([row.perplexity, row.bitsPerWeight], [byHand.perplexity, byHand.bitsPerWeight]);
});
