// The example files work wherever they are copied: none points at a schema by a relative path (an editor
// outside this repository cannot load it; the manifest's jsonValidation maps each file name instead), and
// each one, copied out of the repository with the demo model beside it, validates without an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { createLanguageService } from '../../../server/src/service';

const root = path.join(__dirname, '..', '..', '..', '..');
const examples = path.join(root, 'examples');

/** The config files under examples/ (the demo model's weights and the WikiText-2 text are not configs). */
function exampleFiles(dir = examples): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'data' ? [] : exampleFiles(full);
    return /\.(json|py)$/.test(e.name) ? [full] : [];
  });
}

/** VS Code's fileMatch globs as the manifest writes them: a file name, or `*` and a suffix. */
function matches(glob: string, file: string): boolean {
  const name = path.basename(file);
  return glob.startsWith('*') ? name.endsWith(glob.slice(1)) : name === glob;
}

test('no example file names its schema by a relative path', () => {
  const files = exampleFiles().filter((f) => f.endsWith('.json'));
  assert.ok(files.some((f) => f.endsWith('.quant.json')), 'no job files found under examples/');
  const relative = files.filter((f) => {
    const schema = (JSON.parse(fs.readFileSync(f, 'utf8')) as { $schema?: unknown }).$schema;
    return schema !== undefined && !(typeof schema === 'string' && /^https?:\/\//.test(schema));
  });
  assert.deepEqual(relative.map((f) => path.relative(root, f)), []);
});

test('the manifest maps every example config file name to its schema', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { jsonValidation: Array<{ fileMatch: string; url: string }> } };
  const mappings = manifest.contributes.jsonValidation;
  const configs = exampleFiles().filter((f) => /(\.quant|quantize_config|quant_config)\.json$/.test(f));
  for (const file of configs) {
    const mapping = mappings.find((m) => matches(m.fileMatch, file));
    assert.ok(mapping, `${path.relative(root, file)}: no jsonValidation entry`);
    assert.ok(fs.existsSync(path.join(root, mapping.url)), `${mapping.url} is missing`);
  }
});

test('every example validates without errors after being copied out of the repository', async (t) => {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-examples-'));
  t.after(() => fs.rmSync(copy, { recursive: true, force: true }));
  fs.cpSync(examples, copy, { recursive: true, filter: (src) => !src.startsWith(path.join(examples, 'data')) });
  const service = createLanguageService({ models: {} });
  for (const file of exampleFiles(copy)) {
    const doc = { uri: pathToFileURL(file).href, text: fs.readFileSync(file, 'utf8') };
    await service.resolveModel(doc);
    const errors = (await service.diagnose(doc)).filter((d) => d.severity === 1);
    assert.deepEqual(errors.map((d) => `${d.code}: ${d.message}`), [], path.relative(copy, file));
  }
});
