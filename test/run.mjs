#!/usr/bin/env node
// Runs every test suite with node's built-in test runner (one run, so the summary counts them all), one file
// at a time: the e2e and reference suites start browsers and Python, and timing-sensitive checks (cancel
// within a second) must not compete with them for a small machine's cores.
// Suites: out/test/{unit,lsp,native}/**/*.test.js (compiled from test/), test/e2e/*.test.mjs (real VS Code
// through code-server; needs test/e2e/install.sh) and test/reference/*.test.mjs (the real Python libraries;
// needs test/reference/setup.sh). A suite whose prerequisites are missing is an error under CI=true; otherwise
// it skips, and the run ends with a summary naming each skipped suite and what installs its prerequisites.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { skipSummary } from './skipSummary.mjs';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const only = process.argv.slice(2); // optional: suite names (unit, lsp, native, e2e, reference) or files

function listTests(dir, pattern) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return listTests(full, pattern);
    return pattern.test(name) ? [full] : [];
  });
}

const suites = {
  unit: listTests(join(root, 'out', 'test', 'unit'), /\.test\.js$/),
  lsp: listTests(join(root, 'out', 'test', 'lsp'), /\.test\.js$/),
  native: listTests(join(root, 'out', 'test', 'native'), /\.test\.js$/),
  e2e: listTests(join(root, 'test', 'e2e'), /\.test\.mjs$/),
  reference: listTests(join(root, 'test', 'reference'), /\.test\.mjs$/),
};

const chosen = only.length === 0 ? Object.keys(suites) : only;
const files = chosen.flatMap((name) => suites[name] ?? [join(root, name)]);
if (files.length === 0) {
  console.error('no test files found; run `npm run build` first');
  process.exit(1);
}
console.log(`running ${files.length} test files: ${files.map((f) => relative(root, f)).join(', ')}`);
// the usual reporter on stdout, and the skipped tests to a file for the summary
const scratch = mkdtempSync(join(tmpdir(), 'qs-test-run-'));
const skipsFile = join(scratch, 'skips.jsonl');
const reporters = [
  `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
  '--test-reporter-destination=stdout',
  `--test-reporter=${pathToFileURL(join(root, 'test', 'skipSummary.mjs')).href}`,
  `--test-reporter-destination=${skipsFile}`,
];
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...reporters, ...files], { cwd: root, stdio: 'inherit' });

const skips = existsSync(skipsFile)
  ? readFileSync(skipsFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
  : [];
rmSync(scratch, { recursive: true, force: true });
const suiteOf = (file) => Object.keys(suites).find((name) => suites[name].includes(file)) ?? relative(root, file);
for (const line of skipSummary(skips, suiteOf)) console.log(line);
process.exit(result.status ?? 1);
