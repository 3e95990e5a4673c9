// The corpus in test/fixtures/corpus holds real-world shaped, valid configs (published checkpoints' quantize_config.json,
// quant_config.json and config.json blocks, our job files, Python loading snippets). None may produce an error.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { createLanguageService } from '../../../server/src/service';

const repoRoot = join(__dirname, '..', '..', '..', '..');
const corpusDir = join(repoRoot, 'test', 'fixtures', 'corpus');
const examplesDir = join(repoRoot, 'examples', 'configs');
const brokenFile = join(repoRoot, 'test', 'fixtures', 'broken', 'broken.quant.json');

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full) : [full];
  });
}

const files = listFiles(corpusDir).sort();
const uriOf = (file: string) => `file:///w/${relative(repoRoot, file).split(/[\\/]/).join('/')}`;
const service = createLanguageService();

describe('valid config corpus', () => {
  it('holds at least 40 configs covering every file kind', () => {
    assert.ok(files.length >= 40, `only ${files.length} corpus files`);
    const names = files.map((f) => f.split(/[\\/]/).pop() ?? '');
    for (const kind of ['config.json', 'quantize_config.json', 'quant_config.json']) {
      assert.ok(names.filter((n) => n === kind).length >= 5, `fewer than 5 ${kind} files`);
    }
    assert.ok(names.filter((n) => n.endsWith('.quant.json')).length >= 4, 'fewer than 4 job files');
    assert.ok(names.filter((n) => n.endsWith('.py')).length >= 8, 'fewer than 8 Python files');
  });

  for (const file of files) {
    const rel = relative(corpusDir, file).split(/[\\/]/).join('/');
    it(`${rel} has no errors`, async () => {
      const diags = await service.diagnose({ uri: `file:///corpus/${rel}`, text: readFileSync(file, 'utf8') });
      const errors = diags
        .filter((d) => d.severity === 1)
        .map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${String(d.code)} ${d.message}`);
      assert.deepEqual(errors, []);
    });
  }
});

describe('example configs', () => {
  for (const file of listFiles(examplesDir).sort()) {
    it(`${relative(examplesDir, file)} is clean (no errors, no warnings)`, async () => {
      const diags = await service.diagnose({ uri: uriOf(file), text: readFileSync(file, 'utf8') });
      const problems = diags
        .filter((d) => d.severity === 1 || d.severity === 2)
        .map((d) => `${d.range.start.line + 1} ${String(d.code)} ${d.message}`);
      assert.deepEqual(problems, []);
    });
  }
});

describe('deliberately broken example', () => {
  it('reports every planted mistake', async () => {
    const diags = await service.diagnose({ uri: uriOf(brokenFile), text: readFileSync(brokenFile, 'utf8') });
    const codes = (severity: number) => diags.filter((d) => d.severity === severity).map((d) => String(d.code));
    const errors = codes(1);
    for (const code of ['gptq/bits', 'gptq/group-size', 'gptq/damp-percent', 'gptq/dataset', 'gptq/checkpoint-format']) {
      assert.ok(errors.includes(code), `missing error ${code}`);
    }
    // "sym": "yes" and "nsamples": 0 are schema errors (type, minimum), reported by the schema layer.
    assert.equal(errors.length, 7, `errors: ${errors.join(', ')}`);
    assert.deepEqual(
      codes(2)
        .filter((c) => c.startsWith('gptq/'))
        .sort(),
      ['gptq/act-group-aware-with-desc-act', 'gptq/legacy-kernel-keys'],
    );
  });
});
