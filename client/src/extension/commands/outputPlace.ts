// Where a job file may write: a job file comes with the workspace (a cloned repo too), and its output can
// name any folder, `..` or a symlink out of the workspace included. No `vscode` import.
import * as fs from 'fs';
import * as path from 'path';

/** `p` absolute, with symlinks resolved as far as it exists (a job's output folder usually does not yet). */
export function realPath(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realPath(parent), path.basename(abs));
  }
}

/** Whether `out` lies strictly inside one of `workspaceFolders` once symlinks are followed. */
export function isInsideWorkspace(out: string, workspaceFolders: readonly string[]): boolean {
  const target = realPath(out);
  return workspaceFolders.some((folder) => {
    const rel = path.relative(realPath(folder), target);
    return rel !== '' && rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel);
  });
}
