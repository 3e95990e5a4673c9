// Peak resident memory of this process per benchmark phase. Linux resets the high-water mark (VmHWM) when
// "5" is written to /proc/self/clear_refs, so each phase gets its own peak once the heap has given back what
// earlier phases freed; elsewhere the figure is the process's peak so far (phases run in ascending batch
// order, so it still grows with the batch).
import * as fs from 'fs';
import { loadAddon } from '../../../lib';

function readHighWaterMark(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Frees what earlier phases left for the garbage collector (when started with --expose-gc). */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

export class PeakMemory {
  private resettable = true;

  /** Starts a new phase: from here on, the peak is this phase's. */
  reset(): void {
    collectGarbage();
    // Freed engine buffers would otherwise stay resident and count towards the next phase's peak.
    loadAddon().releaseFreeMemory();
    if (!this.resettable) return;
    try {
      fs.writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      this.resettable = false;
    }
  }

  /** The peak since the last reset, in bytes. */
  read(): number {
    return readHighWaterMark() ?? process.resourceUsage().maxRSS * 1024;
  }
}
