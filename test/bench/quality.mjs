#!/usr/bin/env node
// The quality table (native/model/quantQuality.json): every quantization method there on the bundled tiny-llama, quantized by the engine with the
// default calibration (128 windows × 256 tokens of WikiText-2 valid, seed 0), then WikiText-2 test perplexity
// with the protocol of the models README (windows of 256, fp32 compute). Long (each perplexity is the whole
// test text): run it alone, `node test/bench/quality.mjs [id ...]` (ids as in the table, e.g. gptq-3bit-g64).
// Last stdout line: {"name": "quality", "results": [...]}; the table, as README.md shows it, goes to bench-results/quality.md.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { openModel } = require(join(root, 'out', 'native', 'lib', 'runtime.js'));
const { quantizeModel } = require(join(root, 'out', 'native', 'lib', 'quantize.js'));
const { TextTokenizer } = require(join(root, 'out', 'native', 'lib', 'tokenizer.js'));
const { wikitext2TestPath } = require(join(root, 'out', 'native', 'lib', 'perplexity.js'));

const source = join(root, 'examples', 'tiny-llama');
// The methods and their configs are the rows of the shipped quality table, which README.md's table and the advisor read.
const { QUALITY_TABLE, qualityTableMarkdown } = require(join(root, 'out', 'native', 'model', 'quantQuality.js'));
const METHODS = QUALITY_TABLE.rows;
const only = process.argv.slice(2);
const chosen = METHODS.filter((m) => only.length === 0 || only.includes(m.id));

const ids = TextTokenizer.load(source).encode(readFileSync(wikitext2TestPath(), 'utf8'), { addSpecialTokens: false });
const scratch = mkdtempSync(join(tmpdir(), 'qs-bench-quality-'));
const rows = [];
try {
  for (const m of chosen) {
    let folder = source;
    let quantizeSeconds = null;
    if (m.config) {
      folder = join(scratch, m.label.replace(/\W+/g, '-'));
      const t = process.hrtime.bigint();
      await quantizeModel({
        model: source,
        config: m.config,
        algorithm: m.algorithm,
        out: folder,
        mixedPrecision: m.mixedPrecision,
        signRound: m.signRound,
      });
      quantizeSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    }
    const r = await openModel(folder).perplexity(ids, { seq: 256 });
    rows.push({ ...m, perplexity: r.perplexity, quantizeSeconds, evalSeconds: r.seconds });
    process.stderr.write(
      `${m.label}: perplexity ${r.perplexity.toFixed(4)}, quantize ${quantizeSeconds?.toFixed(1) ?? '-'} s, eval ${r.seconds.toFixed(1)} s\n`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const table = qualityTableMarkdown({ ...QUALITY_TABLE, rows });
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'quality.md'), table + '\n');
writeFileSync(join(root, 'bench-results', 'quality.json'), JSON.stringify(rows, null, 2) + '\n');
console.error(table);
console.log(
  JSON.stringify({ name: 'quality', results: rows.map((r) => ({ metric: `${r.label} perplexity`, value: r.perplexity, unit: 'ppl' })) }),
);
