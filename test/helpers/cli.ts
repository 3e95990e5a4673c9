// Runs the `quantstudio` command the way a user does (a separate node process from the repository root).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..', '..');
const bin = join(repoRoot, 'client', 'bin', 'quantstudio.js');

/** `env` replaces the environment (default: this process's). */
export function quantstudio(
  args: string[],
  cwd = repoRoot,
  env?: NodeJS.ProcessEnv,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: env ?? process.env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
