// A value rule is a table row: one key (any spelling), what is accepted, the message and the fixes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigEntry, ConfigSite, LiteralValue } from '../../../server/src/service/model';
import type { Finding } from '../../../server/src/service/rules';
import { valueRule } from '../../../server/src/service/rules/table';

const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
const entry = (key: string, value: LiteralValue | undefined): ConfigEntry => ({
  key,
  value,
  valueText: JSON.stringify(value) ?? 'x',
  keyRange: range,
  valueRange: range,
  range,
});
const site = (...entries: ConfigEntry[]): ConfigSite => ({
  fileKind: 'model-config',
  method: 'gptq',
  entries,
  range,
  anchorRange: range,
  insertAt: range.start,
  style: { indent: '', syntax: 'json' },
});

const rule = valueRule({
  id: 'test/bits',
  methods: ['gptq'],
  defaultSeverity: 'error',
  description: 'test 1.0',
  keys: ['bits', 'w_bit'],
  accepts: { values: [-1], range: { above: 1, below: 9, integer: true } },
  message: (e) => `${e.key} is ${e.valueText}`,
  fixes: () => [{ value: 4 }, { value: -1, title: 'per channel' }],
});

function run(s: ConfigSite): Array<Partial<Finding> & { at?: ConfigEntry }> {
  const found: Array<Partial<Finding> & { at?: ConfigEntry }> = [];
  rule.check(s, { report: (f) => found.push(f), locate: () => undefined });
  return found;
}

test('accepted values and numbers in range pass; values of another type are left to the schema', () => {
  for (const v of [-1, 2, 8]) assert.deepEqual(run(site(entry('bits', v))), [], String(v));
  assert.deepEqual(run(site(entry('bits', 'four'))), []);
  assert.deepEqual(run(site(entry('bits', undefined))), []);
  assert.deepEqual(run(site()), []);
});

test('a value outside is reported on the entry that takes effect, with the row’s message and fixes', () => {
  for (const v of [1, 9, 2.5, -2]) assert.equal(run(site(entry('bits', v))).length, 1, String(v));
  const last = entry('w_bit', 12);
  assert.deepEqual(run(site(entry('bits', 4), last)), [
    {
      at: last,
      message: 'w_bit is 12',
      fixes: [
        { kind: 'setValue', key: 'w_bit', value: 4, title: 'Set w_bit to 4' },
        { kind: 'setValue', key: 'w_bit', value: -1, title: 'per channel' },
      ],
    },
  ]);
});

test('eachKey checks every spelling written, and ignoreCase accepts a value the library lower-cases', () => {
  const formats = valueRule({
    id: 'test/format',
    methods: ['gptq'],
    defaultSeverity: 'error',
    description: 'test 1.0',
    keys: ['checkpoint_format', 'format'],
    eachKey: true,
    accepts: { values: ['gptq', 'marlin'], ignoreCase: true },
    message: (e) => `${e.key} is ${e.valueText}`,
  });
  const found: Array<Partial<Finding>> = [];
  formats.check(site(entry('checkpoint_format', 'GPTQ'), entry('format', 'gptq_v9')), {
    report: (f) => found.push(f),
    locate: () => undefined,
  });
  assert.deepEqual(
    found.map((f) => f.message),
    ['format is "gptq_v9"'],
  );
  found.length = 0;
  formats.check(site(entry('checkpoint_format', 'awq'), entry('format', 'exl')), { report: (f) => found.push(f), locate: () => undefined });
  assert.deepEqual(
    found.map((f) => f.message),
    ['checkpoint_format is "awq"', 'format is "exl"'],
  );
});
