// Outputs are written into `<out>.tmp-<pid>` and renamed to `<out>` only when the job succeeds, so a
// cancelled or crashed job never leaves a half-written folder where a finished one is expected.
import * as fs from 'fs';
import * as path from 'path';
import { JobFailure } from './jobFailure';
import { STAGING_MARKER } from './protocol';

export class StagedOutput {
  readonly finalFolder: string;
  readonly folder: string;

  constructor(out: string) {
    this.finalFolder = path.resolve(out);
    if (fs.existsSync(this.finalFolder)) {
      throw new JobFailure(
        'INVALID_JOB',
        `output folder already exists: ${this.finalFolder}; choose a new folder or delete it first`,
        this.finalFolder,
      );
    }
    this.folder = `${this.finalFolder}${STAGING_MARKER}${process.pid}`;
    fs.mkdirSync(this.folder, { recursive: true });
  }

  /** Moves the staged folder into place; returns its size in bytes. */
  commit(): { folder: string; bytes: number } {
    const bytes = fs
      .readdirSync(this.folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
    fs.renameSync(this.folder, this.finalFolder);
    return { folder: this.finalFolder, bytes };
  }

  discard(): void {
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}
