// A strict JSON document's config is parsed on its own (parse/jsonSpan.ts); its answers must equal the
// whole-tree parse's. The oracle: the same text followed by a comment, which is not strict JSON and so takes
// the whole-tree path with every position unchanged.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FileKind } from '../../../server/src/service/model';
import { parseJsonDocument } from '../../../server/src/service/parse/json';
import { topLevelValueSpan } from '../../../server/src/service/parse/jsonSpan';

type JsonKind = Exclude<FileKind, 'python'>;
const corpusDir = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'corpus');

const TRICKY: [string, string][] = [
  ['escaped keys', '{"a\\"quantization_config\\"": {"b": "\\\\"}, "quantization_config": {"quant_method": "gptq", "bits": 4}}'],
  [
    'a nested key of the same name',
    '{"text_config": {"quantization_config": {"bits": 8}}, "quantization_config": {"quant_method": "awq", "bits": 4}}',
  ],
  [
    'the key twice',
    '{"quantization_config": {"quant_method": "gptq", "bits": 3}, "x": [1, {"y": "]"}], "quantization_config": {"quant_method": "gptq", "bits": 4}}',
  ],
  ['a null config', '{"quantization_config": null, "hidden_size": 8}'],
  ['a scalar config', '{"quantization_config": "gptq"}'],
  ['an array config', '{"quantization_config": [1, 2]}'],
  ['an array document', '[{"quantization_config": {"bits": 4}}]'],
  ['strings with brackets', '{"s": "{[\\"", "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true, "x": "}"}}'],
];

function documents(): { name: string; kind: JsonKind; text: string }[] {
  const fromCorpus = readdirSync(corpusDir).flatMap((folder) =>
    readdirSync(join(corpusDir, folder))
      .filter((file) => file === 'config.json' || file.endsWith('.quant.json'))
      .map((file) => ({
        name: `${folder}/${file}`,
        kind: (file === 'config.json' ? 'model-config' : 'job') as JsonKind,
        text: readFileSync(join(corpusDir, folder, file), 'utf8'),
      })),
  );
  return [...fromCorpus, ...TRICKY.map(([name, text]) => ({ name, kind: 'model-config' as JsonKind, text }))];
}

describe('a strict config.json parsed at its config only', () => {
  it('finds the top-level value exactly where JSON.parse and a whole-tree parse put it', () => {
    const twice = TRICKY[2][1];
    const span = topLevelValueSpan(twice, 'quantization_config');
    assert.equal(span && twice.slice(span.start, span.end), '{"quant_method": "gptq", "bits": 4}');
    const nested = TRICKY[1][1];
    const inner = topLevelValueSpan(nested, 'quantization_config');
    assert.equal(inner && nested.slice(inner.start, inner.end), '{"quant_method": "awq", "bits": 4}');
    const scalar = topLevelValueSpan('{"a": 1, "quantization_config": -1.5e3 }', 'quantization_config');
    assert.deepEqual(scalar, { start: 32, end: 38 });
    assert.equal(topLevelValueSpan('{"b": {"quantization_config": {}}}', 'quantization_config'), undefined);
  });

  for (const doc of documents()) {
    it(`answers as the whole-tree parse on ${doc.name}`, () => {
      assert.doesNotThrow(() => JSON.parse(doc.text), 'the case must be strict JSON');
      const fast = parseJsonDocument(doc.text, doc.kind);
      const whole = parseJsonDocument(`${doc.text}\n// not strict`, doc.kind);
      assert.equal(fast.ours, whole.ours);
      assert.deepEqual(fast.sites, whole.sites);
      assert.deepEqual(
        fast.findings,
        whole.findings.filter((f) => f.code !== 'json/comment'),
      );
      // the same values (JSON.parse's objects have Object's prototype, jsonc-parser's none)
      assert.deepEqual(fast.documentValue, JSON.parse(JSON.stringify(whole.documentValue ?? null)) ?? undefined);
      for (let offset = 0; offset <= doc.text.length; offset++)
        assert.deepEqual(fast.pathAt?.(offset), whole.pathAt?.(offset), `at offset ${offset}`);
      for (const [label, fastSite, wholeSite] of [
        ['site', fast.sites[0], whole.sites[0]],
        ['document', undefined, undefined],
      ] as const) {
        const paths = fastSite
          ? fastSite.entries.map((e) => [e.key])
          : [['quantization_config'], ['hidden_size'], ['quantization_config', 'bits']];
        for (const path of [[], ...paths])
          for (const part of ['key', 'value'] as const)
            assert.deepEqual(
              fast.rangeOf(fastSite, path, part),
              whole.rangeOf(wholeSite, path, part),
              `${label} ${path.join('.')} ${part}`,
            );
      }
    });
  }
});
