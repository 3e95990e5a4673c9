// The packaged extension: `vsce package` (what `npm run package` runs after the build) makes a .vsix
// that holds only the runtime files, installs into code-server with --install-extension, and activates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readLogOutputChannel, readProblems } from './codeServer.mjs';
import { openFile } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { EXTENSION_ID, openSession } from './session.mjs';

const skip = e2eSkipReason();
const vsce = path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce');
let tmp, vsix, s;

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-vsix-'));
  vsix = path.join(tmp, 'quantstudio.vsix');
  execFileSync(vsce, ['package', '--no-dependencies', '--out', vsix], { cwd: REPO_ROOT, stdio: 'pipe' });
});
after(async () => {
  await s?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the .vsix holds only the manifest, docs, bundles, the python runners, schemas, icons, examples and the addon', { skip }, () => {
  const listing = execFileSync(vsce, ['ls', '--no-dependencies'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const allowed =
    /^(package\.json|README\.md|LICENSE|dist\/(extension|server|worker)\.js|dist\/[\w-]+\.wasm|dist\/python\/quantstudio_(common|models|quantize|measure|generate|llmcompressor)\.py|schemas\/[\w.-]+\.json|media\/[\w.-]+\.svg|examples\/.+|native\/build\/Release\/quantstudio\.node)$/;
  assert.deepEqual(
    listing.filter((f) => !allowed.test(f)),
    [],
    'files that should not be packaged',
  );
  for (const f of [
    'package.json',
    'dist/extension.js',
    'dist/server.js',
    'dist/worker.js',
    'dist/python/quantstudio_common.py',
    'dist/python/quantstudio_quantize.py',
    'dist/python/quantstudio_measure.py',
    'dist/python/quantstudio_models.py',
    'dist/python/quantstudio_generate.py',
    'dist/python/quantstudio_llmcompressor.py',
    'media/quantstudio.svg',
    'examples/tiny-llama/model.safetensors',
  ]) {
    assert.ok(listing.includes(f), `${f} missing from the .vsix`);
  }
  assert.ok(
    listing.some((f) => f.startsWith('schemas/')),
    'no schemas in the .vsix',
  );
});

test('installs into code-server and activates', { skip }, async () => {
  s = await openSession('vsix', { vsix });
  const installed = fs.readdirSync(s.cs.extensionsDir).filter((d) => d.startsWith(`${EXTENSION_ID}-`));
  assert.deepEqual(installed, ['quantstudio.quantstudio-0.1.0']);
  // the installed copy has no node_modules: everything it runs comes from the bundles
  assert.ok(!fs.existsSync(path.join(s.cs.extensionsDir, installed[0], 'node_modules')));
  const log = await readLogOutputChannel(s.cs, EXTENSION_ID, 'QuantStudio', { expect: 'Language server started.' });
  assert.match(log, /QuantStudio 0\.1\.0 activated/);
  await s.shot('01-activated-from-vsix');
});

test('the packaged language server diagnoses JSON and Python (tree-sitter wasm from dist/)', { skip }, async () => {
  const { files } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'expectations.json'), 'utf8'));
  for (const file of files.filter((f) => /\.(json|py)$/.test(f.path))) {
    await openFile(s.page, file.path);
    for (const d of file.diagnostics) {
      const rows = (await readProblems(s.page, { expect: `[Ln ${d.line}, Col ${d.column}]` })).map((r) => r.replace(/\s+/g, ' ').trim());
      assert.ok(rows.includes(`${d.message} quantstudio ${d.code} [Ln ${d.line}, Col ${d.column}]`), JSON.stringify(rows));
    }
  }
  await s.shot('02-packaged-diagnostics');
});
