// The example files work wherever they are copied: none points at a schema by a relative path (an editor
// outside this repository cannot load it; the language server picks each file's schema by its name), and
// each one, copied out of the repository with the demo model beside it, validates without an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { createLanguageService } from '../../../server/src/service';
import { CONFIG_FILE_GLOBS } from '../../../client/src/extension/documents';

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

// The document selector's globs as documents.ts writes them: any folder, then a file name or a star and a suffix.
function matches(glob: string, file: string): boolean {
  const name = path.basename(file);
  const last = glob.slice(glob.lastIndexOf('/') + 1);
  return last.startsWith('*') ? name.endsWith(last.slice(1)) : name === last;
}

test('no example file names its schema by a relative path', () => {
  const files = exampleFiles().filter((f) => f.endsWith('.json'));
  assert.ok(
    files.some((f) => f.endsWith('.quant.json')),
    'no job files found under examples/',
  );
  const relative = files.filter((f) => {
    const schema = (JSON.parse(fs.readFileSync(f, 'utf8')) as { $schema?: unknown }).$schema;
    return schema !== undefined && !(typeof schema === 'string' && /^https?:\/\//.test(schema));
  });
  assert.deepEqual(
    relative.map((f) => path.relative(root, f)),
    [],
  );
});

test("the language server is the one source for every example config file: the manifest leaves VS Code's JSON schemas out", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { jsonValidation?: unknown } };
  // a jsonValidation entry would make VS Code's JSON language features answer hovers and completions a second time
  assert.equal(manifest.contributes.jsonValidation, undefined);
  const configs = exampleFiles().filter((f) => /^(config|quantize_config|quant_config)\.json$|\.quant\.json$/.test(path.basename(f)));
  assert.ok(configs.length >= 4, configs.join(', '));
  for (const file of configs)
    assert.ok(
      CONFIG_FILE_GLOBS.some((g) => matches(g, file)),
      `${path.relative(root, file)}: not in the language client's document selector`,
    );
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
    assert.deepEqual(
      errors.map((d) => `${d.code}: ${d.message}`),
      [],
      path.relative(copy, file),
    );
  }
});
