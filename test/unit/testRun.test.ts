// `npm test` (test/run.mjs) ends with a summary of what it skipped: each skipped suite, why, and the command
// that installs its prerequisites, rather than a bare "# skipped N" above the fold.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..', '..');

test('a run whose e2e and reference prerequisites are missing names both suites and their installers last', (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'qs-no-prereqs-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  // no code-server and no Python venv where the suites look for them, and not CI (where a skip is an error)
  const env: NodeJS.ProcessEnv = { ...process.env, E2E_HOME: empty, QUANTSTUDIO_REF_CACHE: empty };
  delete env.CI;
  delete env.NODE_TEST_CONTEXT; // a run of its own, not a subtest of this one
  const files = ['test/e2e/vsix.test.mjs', 'test/reference/gptq-equivalence.test.mjs'];
  const run = spawnSync(process.execPath, [join(root, 'test', 'run.mjs'), ...files], { cwd: root, env, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  const summary = lines.slice(lines.findIndex((l) => l.startsWith('Skipped: ')));
  assert.equal(summary[0], 'Skipped: 4 tests in 2 suites.');
  assert.match(summary[1], /^ {2}e2e \(3 tests in 1 file\): e2e skipped: code-server is not installed in /);
  assert.equal(summary[2], '    install its prerequisites with: bash test/e2e/install.sh');
  assert.match(summary[3], /^ {2}reference \(1 test in 1 file\): the Python reference venv is missing /);
  assert.equal(summary[4], '    install its prerequisites with: bash test/reference/setup.sh');
  assert.equal(summary.length, 5, 'the summary is the last thing printed');
});
