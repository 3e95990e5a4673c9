// What a path is when a file should be there: a directory or a FIFO named like a file is reported as
// what it is, not as missing. Opening a FIFO for reading blocks until a writer comes, so callers stat first.
import * as fs from 'node:fs';
import type { Stats } from 'node:fs';

/** Why `info` is not a regular file, or undefined when it is one. */
export function notRegularFile(info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isDirectory()) return 'is a directory, not a file';
  if (info.isFIFO()) return 'is a FIFO (named pipe), not a regular file';
  return 'is not a regular file';
}

/** Why something other than a regular file has this name; undefined when it is a file or absent. */
export function otherThanFile(file: string): string | undefined {
  const info = fs.statSync(file, { throwIfNoEntry: false });
  return info && notRegularFile(info);
}
