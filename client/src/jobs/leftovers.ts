// A worker killed while writing leaves its staging folder `<out>.tmp-<pid>` behind; the runner removes it.
import * as fs from 'fs';
import * as path from 'path';
import { STAGING_MARKER } from '../../../native/worker/protocol';

export function removeStagingLeftovers(out: string, pid: number | undefined): void {
  const final = path.resolve(out);
  const parent = path.dirname(final);
  const prefix = `${path.basename(final)}${STAGING_MARKER}`;
  const names = fs.existsSync(parent) ? fs.readdirSync(parent) : [];
  for (const name of names) {
    // Only this worker's folder when its pid is known, so a parallel job into the same place is left alone.
    if (pid !== undefined ? name === `${prefix}${pid}` : name.startsWith(prefix)) {
      fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
  }
}
