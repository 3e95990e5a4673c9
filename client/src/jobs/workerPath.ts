// Where the worker entry is: next to the compiled sources (out/native/worker/main.js) or in the bundle.
import * as fs from 'fs';
import * as path from 'path';

export function workerPath(): string {
  const candidates = [
    process.env.QUANTSTUDIO_WORKER,
    path.join(__dirname, '..', '..', '..', 'native', 'worker', 'main.js'),
    path.join(__dirname, 'worker.js'),
  ].filter((p): p is string => typeof p === 'string');
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`the job worker is not built (looked for ${candidates.join(', ')}); run \`npm run build\``);
  return found;
}
