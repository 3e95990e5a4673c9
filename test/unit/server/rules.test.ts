// Table-driven spec of the semantic rules: every case in test/fixtures/rules/*.json is a real document run
// through the language service. Expected ranges are marked in the document text with ⟦ and ⟧, in the
// order of `expect`. A case must produce exactly its expected rule findings and no other error.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLanguageService } from '../../../server/src/service';
import { allRules } from '../../../server/src/service/rules';

interface Expected {
  code: string;
  /** LSP severity: 1 error, 2 warning, 3 information, 4 hint. */
  severity: 1 | 2 | 3 | 4;
}

interface RuleCase {
  rule: string;
  name: string;
  /** File name deciding the kind: config.json, quantize_config.json, quant_config.json, x.quant.json, x.py. */
  file: string;
  lines: string[];
  expect: Expected[];
}

interface Marked {
  text: string;
  ranges: { start: { line: number; character: number }; end: { line: number; character: number } }[];
}

const OPEN = '⟦';
const CLOSE = '⟧';

/** Strips the ⟦…⟧ markers and returns the clean text plus the marked ranges, in order of their opening marker. */
function unmark(lines: string[]): Marked {
  const ranges: Marked['ranges'] = [];
  const open: { line: number; character: number; index: number }[] = [];
  const clean = lines.map((raw, line) => {
    let out = '';
    for (const ch of raw) {
      if (ch === OPEN) {
        open.push({ line, character: out.length, index: ranges.length });
        ranges.push({ start: { line, character: out.length }, end: { line, character: out.length } });
      } else if (ch === CLOSE) {
        const start = open.pop();
        assert.ok(start, `unbalanced ${CLOSE} on line ${line}`);
        ranges[start.index].end = { line, character: out.length };
      } else {
        out += ch;
      }
    }
    return out;
  });
  assert.equal(open.length, 0, `unbalanced ${OPEN}`);
  return { text: clean.join('\n') + '\n', ranges };
}

const fixtureDir = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rules');
const cases: RuleCase[] = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) => JSON.parse(readFileSync(join(fixtureDir, f), 'utf8')) as RuleCase[]);
const ruleIds = new Set(allRules.map((r) => r.id));
const service = createLanguageService();

describe('semantic rules', () => {
  it('every rule has at least one failing and one passing case', () => {
    for (const id of ruleIds) {
      const own = cases.filter((c) => c.rule === id);
      assert.ok(
        own.some((c) => c.expect.some((e) => e.code === id)),
        `${id}: no failing case`,
      );
      assert.ok(
        own.some((c) => !c.expect.some((e) => e.code === id)),
        `${id}: no passing case`,
      );
    }
    for (const c of cases) assert.ok(ruleIds.has(c.rule), `case "${c.name}" names unknown rule ${c.rule}`);
  });

  it('rule ids are unique and descriptions name a release', () => {
    assert.equal(ruleIds.size, allRules.length);
    for (const r of allRules) assert.match(r.description, /\d+\.\d+/, `${r.id}: description names no release`);
  });

  for (const c of cases) {
    it(`${c.rule}: ${c.name}`, async () => {
      const { text, ranges } = unmark(c.lines);
      assert.equal(ranges.length, c.expect.length, 'one ⟦…⟧ marker per expected finding');
      const diags = await service.diagnose({ uri: `file:///w/${c.file}`, text });
      const expected = c.expect.map((e, i) => ({ code: e.code, severity: e.severity, range: ranges[i] }));
      const actualRuleFindings = diags
        .filter((d) => typeof d.code === 'string' && ruleIds.has(d.code))
        .map((d) => ({ code: d.code, severity: d.severity, range: d.range }));
      const byPosition = (a: { range: Marked['ranges'][number]; code: unknown }, b: { range: Marked['ranges'][number]; code: unknown }) =>
        a.range.start.line - b.range.start.line ||
        a.range.start.character - b.range.start.character ||
        String(a.code).localeCompare(String(b.code));
      assert.deepEqual(actualRuleFindings.sort(byPosition), expected.sort(byPosition));
      const unexpectedErrors = diags.filter((d) => d.severity === 1 && !(typeof d.code === 'string' && ruleIds.has(d.code)));
      assert.deepEqual(unexpectedErrors, [], 'no error besides the expected rule findings');
      for (const d of diags.filter((x) => typeof x.code === 'string' && ruleIds.has(x.code))) {
        assert.equal(d.source, 'quantstudio');
        assert.ok(d.message.length > 20, `${String(d.code)}: message too short to act on`);
      }
    });
  }
});
