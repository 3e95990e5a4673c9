// The scratch a benchmark test needs: an NF4 checkpoint of the demo model to measure as a variant, and a private
// TMPDIR for the worker it starts, so the test can see whether the worker removes its own scratch folder.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { quantizeModel } from '../../native/lib/quantize';
import { repoRoot } from './cli';

const demoModel = join(repoRoot, 'examples', 'tiny-llama');

/** Registers, in the calling suite, the hooks that write the checkpoint and set TMPDIR (restored after). */
export function benchmarkScratch(prefix: string): { scratch: string; workerTmp: string; nf4: string } {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const workerTmp = join(scratch, 'tmp');
  const nf4 = join(scratch, 'tiny-llama-nf4');
  const savedTmp = process.env.TMPDIR;
  before(async () => {
    mkdirSync(workerTmp);
    process.env.TMPDIR = workerTmp;
    await quantizeModel({
      model: demoModel,
      config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' },
      out: nf4,
    });
  });
  after(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(scratch, { recursive: true, force: true });
  });
  return { scratch, workerTmp, nf4 };
}
