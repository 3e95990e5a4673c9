// Finds the Python reference venv that setup.sh builds and runs a helper script in it with JSON in and
// JSON out. Reference tests call `referenceVenv()` first: it returns the venv, or a skip reason (an
// error under CI=true, where a missing venv must fail the run).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const referenceDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(referenceDir, '..', '..');

/** The venv path setup.sh uses for a requirements file (default requirements.txt) as it is now. */
export function venvPath(requirements = 'requirements.txt') {
  const hash = createHash('sha256')
    .update(readFileSync(join(referenceDir, requirements)))
    .digest('hex')
    .slice(0, 12);
  const cache = process.env.QUANTSTUDIO_REF_CACHE ?? join(homedir(), '.cache', 'quantstudio-ref');
  const name = requirements.replace(/\.txt$/, '').replace(/^requirements-?/, '');
  return join(cache, name === '' ? `venv-${hash}` : `venv-${name}-${hash}`);
}

/** {python} when the venv is ready; {skip: reason} when not (throws instead under CI=true). */
export function referenceVenv(requirements = 'requirements.txt') {
  const venv = venvPath(requirements);
  if (existsSync(join(venv, '.ready'))) return { python: join(venv, 'bin', 'python') };
  const reason = `the Python reference venv is missing (${venv}); run test/reference/setup.sh ${requirements} (about 2 minutes, 6 GB)`;
  if (process.env.CI === 'true') throw new Error(reason);
  return { skip: reason };
}

/** Runs `script` (relative to test/reference) with `input` as JSON on stdin; resolves its stdout JSON. */
export function runPython(python, script, input, { timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('nice', ['-n', '5', python, join(referenceDir, script)], {
      cwd: repoRoot,
      env: { ...process.env, PYTHONUNBUFFERED: '1', TOKENIZERS_PARALLELISM: 'false', HF_HUB_OFFLINE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code}:\n${stderr.slice(-4000)}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch (error) {
        reject(new Error(`${script} printed no JSON (${error.message}):\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** The CLI a user runs, for the reference tests that drive it. */
export const cliPath = join(repoRoot, 'client', 'bin', 'quantstudio.js');

/** For the tests that run the CLI beside a venv: {venv, skip}, skip false when the venv and the build are both
 *  there, else the reason (thrown instead under CI=true). */
export function cliReference(requirements = 'requirements.txt') {
  const venv = referenceVenv(requirements);
  const built =
    existsSync(join(repoRoot, 'out', 'client', 'src', 'jobs', 'index.js')) &&
    existsSync(join(repoRoot, 'native', 'build', 'Release', 'quantstudio.node'));
  const skip = venv.skip ?? (built ? false : 'the engine is not built; run `npm run build` first');
  if (skip && process.env.CI === 'true') throw new Error(skip);
  return { venv, skip };
}
