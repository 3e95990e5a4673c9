// `quantstudio --version` and `quantstudio <command> --help`: answered on stdout with exit 0, before any
// command runs (a --help never starts a job or reads a file).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { quantstudio, repoRoot } from '../../helpers/cli';

const COMMANDS = ['validate', 'estimate', 'recommend', 'quantize', 'perplexity', 'generate', 'benchmark', 'doctor'];

test('--version prints the package version', () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const run = quantstudio([flag]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `quantstudio ${version}\n`);
  }
});

test('every command answers --help with its summary and usage', () => {
  for (const name of COMMANDS) {
    for (const args of [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
      [name, '--model', 'nowhere', '--help'],
    ]) {
      const run = quantstudio(args);
      assert.equal(run.status, 0, `${args.join(' ')}: ${run.stderr}`);
      const [summary, usage] = run.stdout.split('\n');
      assert.match(summary, new RegExp(`^quantstudio ${name}: \\S`), args.join(' '));
      assert.match(usage, new RegExp(`^usage: quantstudio ${name} `), args.join(' '));
      assert.equal(run.stderr, '');
    }
  }
});

test('the general help names the per-command help and the version flag', () => {
  const run = quantstudio(['--help']);
  assert.equal(run.status, 0);
  assert.match(run.stdout, /'quantstudio <command> --help'/);
  assert.match(run.stdout, /--version/);
});
