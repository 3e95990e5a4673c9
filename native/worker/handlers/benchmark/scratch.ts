// The folder a benchmark quantizes its config variants into: under the OS temp folder, named after this
// process, removed when the job ends however it ends. Folders of benchmark workers that were killed before
// they could clean up (their pid is gone) are removed when the next benchmark starts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isRunning } from '../../../model';

const PREFIX = 'quantstudio-benchmark-';

function sweepAbandoned(root: string): void {
  for (const name of fs.readdirSync(root)) {
    const pid = Number(new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isRunning(pid))
      fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
}

export class ScratchFolder {
  readonly folder: string;

  constructor() {
    const root = os.tmpdir();
    try {
      sweepAbandoned(root);
    } catch {
      // Best effort: a folder another user owns is not ours to remove.
    }
    this.folder = fs.mkdtempSync(path.join(root, `${PREFIX}${process.pid}-`));
  }

  /** A not yet existing path inside the scratch folder for one variant's checkpoint. */
  pathFor(index: number): string {
    return path.join(this.folder, `variant-${index}`);
  }

  removeVariant(index: number): void {
    fs.rmSync(this.pathFor(index), { recursive: true, force: true });
  }

  remove(): void {
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}
