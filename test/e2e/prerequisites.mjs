// Whether the e2e suites can run here: code-server + chromium installed by install.sh, and the
// extension built (dist/). Missing pieces skip the suites with the command that fixes them, except
// under CI=true, where a skipped e2e suite would hide a broken pipeline: there it is an error.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, E2E_HOME } from './codeServer.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function missing() {
  if (!fs.existsSync(path.join(E2E_HOME, '.install-ok')))
    return `code-server is not installed in ${E2E_HOME}: run \`bash test/e2e/install.sh\` (about 1.5 min)`;
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing: run \`bash test/e2e/install.sh\``;
  for (const f of ['dist/extension.js', 'dist/server.js']) {
    if (!fs.existsSync(path.join(REPO_ROOT, f))) return `${f} is missing: run \`npm run build\` first`;
  }
  return undefined;
}

/** `false` when the e2e suites can run, else the reason to skip them. Throws under CI=true. */
export function e2eSkipReason() {
  const why = missing();
  if (why && process.env.CI === 'true') throw new Error(`e2e prerequisites missing under CI=true: ${why}`);
  return why ? `e2e skipped: ${why}` : false;
}
