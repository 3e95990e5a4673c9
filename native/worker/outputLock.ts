// One job at a time per output folder: `<out>.lock` beside it holds the writing process's pid. Without it,
// two jobs into one folder (two `--overwrite` runs) both succeed and the first result is silently replaced.
// A lock whose process is gone (a killed job) is taken over.
import * as fs from 'fs';
import * as path from 'path';
import { isRunning } from '../model';
import { JobFailure } from './jobFailure';
import { OUTPUT_LOCK_SUFFIX } from './protocol';

export class OutputLock {
  private constructor(readonly file: string) {}

  /** Takes the lock of `out` for this process, or fails at once naming the job that holds it. */
  static acquire(out: string): OutputLock {
    const final = path.resolve(out);
    const file = `${final}${OUTPUT_LOCK_SUFFIX}`;
    fs.mkdirSync(path.dirname(final), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      // Written aside and linked into place, so a lock is never seen without its pid.
      const pending = `${file}.${process.pid}`;
      fs.writeFileSync(pending, `${process.pid}\n`);
      try {
        fs.linkSync(pending, file);
        return new OutputLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        fs.rmSync(pending, { force: true });
      }
      const holder = holderOf(file);
      if (holder !== undefined && holder !== process.pid && isRunning(holder)) {
        throw new JobFailure(
          'INVALID_JOB',
          `output folder ${final} is being written by another job (pid ${holder}); ` +
            `wait for it to finish or choose another folder (lock: ${file})`,
          final,
        );
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
    throw new JobFailure('INVALID_JOB', `cannot take the lock ${file} of output folder ${final}; another job keeps taking it`, final);
  }

  /** Runs `work` holding the lock of `out`. */
  static async around<T>(out: string, work: () => Promise<T>): Promise<T> {
    const lock = OutputLock.acquire(out);
    try {
      return await work();
    } finally {
      lock.release();
    }
  }

  release(): void {
    if (holderOf(this.file) === process.pid) fs.rmSync(this.file, { force: true });
  }
}

/** The pid in a lock file; undefined when there is none. */
export function holderOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
