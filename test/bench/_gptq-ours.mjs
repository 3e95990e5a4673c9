// One timing of our GPTQ 4-bit g128 in a fresh process (so a benchmark can set the engine's thread count per run):
// seeded random calibration windows of ids below 4096 (the random Llamas' tokenizer), the layers' seconds summed
// (model load and writing excluded); prints {"seconds": …, "cpuSeconds": …, "layers": N}.
//   QUANTSTUDIO_THREADS=T node test/bench/_gptq-ours.mjs <folder> <nsamples> <seqlen>
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { quantizeModel } = require(join(root, 'out', 'native', 'lib', 'quantize.js'));
const { seededRandom } = require(join(root, 'out', 'native', 'lib', 'calibration.js'));

const [folder, samplesText, seqlenText] = process.argv.slice(2);
const nsamples = Number(samplesText),
  seqlen = Number(seqlenText);
const random = seededRandom(1);
const tokens = Array.from({ length: nsamples * seqlen * 4 }, () => Math.floor(random() * 4096));
const config = { quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false, sym: true };
const out = mkdtempSync(join(tmpdir(), 'qs-gptq-ours-'));
try {
  const cpu = process.cpuUsage();
  const r = await quantizeModel({ model: folder, config, out: join(out, 'model'), calibration: { tokens, nsamples, seqlen } });
  const used = process.cpuUsage(cpu);
  const seconds = r.layers.reduce((sum, l) => sum + l.seconds, 0);
  console.log(JSON.stringify({ seconds, cpuSeconds: (used.user + used.system) / 1e6, layers: r.layers.length }));
} finally {
  rmSync(out, { recursive: true, force: true });
}
