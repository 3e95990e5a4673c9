// The tree's layout and lint rules, checked the way `npm run format` and `npm run lint` apply them: Prettier for
// TypeScript and JavaScript (.prettierrc.json), ESLint (eslint.config.mjs), clang-format for C++ (.clang-format).
// clang-format is a system package (Debian: clang-format); without it that check skips, except under CI=true.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function tracked(...patterns: string[]): string[] {
  return run('git', ['ls-files', '--', ...patterns])
    .output.split('\n')
    .filter((line) => line !== '');
}

test('TypeScript and JavaScript are laid out as Prettier lays them out (npm run format)', () => {
  const { status, output } = run(bin('prettier'), ['--check', ...tracked('*.ts', '*.mjs', '*.js', '*.cjs')]);
  assert.equal(status, 0, output);
});

test('ESLint finds nothing (npm run lint)', () => {
  const { status, output } = run(bin('eslint'), ['--max-warnings=0', '.']);
  assert.equal(status, 0, output);
});

const clangFormat = spawnSync('clang-format', ['--version']).status === 0;
const noClangFormat = 'clang-format is not installed (Debian/Ubuntu: apt-get install clang-format)';
if (!clangFormat && process.env.CI === 'true') throw new Error(noClangFormat);

test('C++ is laid out as clang-format lays it out (npm run format)', { skip: clangFormat ? false : noClangFormat }, () => {
  const { status, output } = run('clang-format', ['--dry-run', '-Werror', '--style=file', ...tracked('native/*.cc', 'native/*.h')]);
  assert.equal(status, 0, output.split('\n').slice(0, 40).join('\n'));
});
