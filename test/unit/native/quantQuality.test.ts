// The shipped quality table (native/model/quantQuality.json) is the one source: README.md's quality table is
// exactly its rendering, and every row's config reads as the method its label names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeSettings, QUALITY_TABLE, qualityTableMarkdown, quantSettingsOf } from '../../../native/model';

const root = join(__dirname, '..', '..', '..', '..');

test("README.md's quality table is the shipped table, row for row", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('| method | bits | perplexity | quantize time | upstream |');
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
