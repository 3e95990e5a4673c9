// Outputs are written into `<out>.tmp-<pid>` and renamed to `<out>` only when the job succeeds, so a
// cancelled or crashed job never leaves a half-written folder where a finished one is expected.
import * as fs from 'fs';
import * as path from 'path';
import { JobFailure } from './jobFailure';
import { STAGING_MARKER } from './protocol';

export interface StagingOptions {
  /** Replace an existing `out` at commit (the engine's pipeline rule, native/src/io/output_folder.cc). */
  overwrite?: boolean;
  /** The source model: `out` may neither lie inside it nor hold it, so the source is never written. */
  source?: string;
}

const within = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(outer + path.sep);

export class StagedOutput {
  readonly finalFolder: string;
  readonly folder: string;

  constructor(
    out: string,
    private readonly options: StagingOptions = {},
  ) {
    this.finalFolder = path.resolve(out);
    if (options.source !== undefined) {
      const source = path.resolve(options.source);
      if (within(this.finalFolder, source) || within(source, this.finalFolder))
        throw new JobFailure(
          'INVALID_JOB',
          `output folder ${this.finalFolder} overlaps the source model folder ${source}; choose an output folder elsewhere so the source stays untouched`,
          'out',
        );
    }
    if (fs.existsSync(this.finalFolder) && !options.overwrite) {
      throw new JobFailure(
        'INVALID_JOB',
        `output folder already exists: ${this.finalFolder}; choose a new folder or delete it first`,
        this.finalFolder,
      );
    }
    this.folder = `${this.finalFolder}${STAGING_MARKER}${process.pid}`;
    fs.rmSync(this.folder, { recursive: true, force: true }); // a leftover of an earlier run with this process id
    fs.mkdirSync(this.folder, { recursive: true });
  }

  /** Moves the staged folder into place (replacing `out` when overwriting); returns its size in bytes. */
  commit(): { folder: string; bytes: number } {
    const bytes = fs
      .readdirSync(this.folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
    if (this.options.overwrite) fs.rmSync(this.finalFolder, { recursive: true, force: true });
    fs.renameSync(this.folder, this.finalFolder);
    return { folder: this.finalFolder, bytes };
  }

  discard(): void {
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}
