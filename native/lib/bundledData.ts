// Files shipped in examples/data (WikiText-2 valid for calibration, test for evaluation), found from the
// compiled tree (out/native/lib), the sources, or the bundle (dist/worker.js in the .vsix).
import * as fs from 'fs';
import * as path from 'path';

export function bundledDataPath(file: string, what: string): string {
  const candidates = [
    path.join(__dirname, '..', 'examples', 'data', file), // dist/worker.js in the .vsix
    path.join(__dirname, '..', '..', 'examples', 'data', file),
    path.join(__dirname, '..', '..', '..', 'examples', 'data', file),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${what} not found (looked in ${candidates.join(', ')})`);
  return found;
}
