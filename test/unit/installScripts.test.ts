// `npm install` (npm 11.16+) warns about every dependency whose install script package.json's allowScripts
// does not approve or deny, and npm 12 will refuse to run them: each one in the lockfile must be decided.
// Entries are name-only: the lockfile keeps no resolved URLs, which npm needs to match a pinned pkg@version.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');
const read = (file: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;

test('every dependency with an install script is approved or denied by name in allowScripts', () => {
  const lock = read('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
  const allow = (read('package.json')['allowScripts'] ?? {}) as Record<string, unknown>;
  const withScripts = Object.entries(lock.packages)
    .filter(([where, p]) => where !== '' && p.hasInstallScript === true)
    .map(([where]) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length));
  assert.ok(withScripts.includes('esbuild'), 'the lockfile is read (esbuild has a postinstall)');
  assert.deepEqual(
    [...new Set(withScripts)].filter((name) => typeof allow[name] !== 'boolean'),
    [],
    'undecided install scripts',
  );
  assert.deepEqual(
    Object.keys(allow).filter((name) => !withScripts.includes(name)),
    [],
    'entries for packages without install scripts',
  );
});
