// GPTQModel 7.7's automatic GPTQ kernel choice on a CUDA GPU, per module: utils/model.py create_quant_layer
// tries the candidates in the priority order of their SUPPORTS_FORMATS (nn_modules/qlinear/*.py) and keeps the
// first one whose validation passes. Restated here: MarlinLinear (90; bits 4/8, sym, group -1/32/64/128; under
// automatic selection a layer off Marlin's thread tile goes to the next kernel, utils/marlin.py
// marlin_is_tile_aligned), ExllamaV2Linear (80; 4-bit, its in/out divisors in gptqKernels.ts), TritonV2Linear
// (40; bits 2/4/8, in and out % 32) and TorchLinear (20; bits 2-8). Swordfish (101), Machete (100, Hopper) and
// BitBLAS (30) are tried first where their extensions are built; they are not modelled. transformers 5.23 loads
// GPTQ through GPTQModel (quantizers/quantizer_gptq.py), so its table is the same.
import { GPTQ_KERNEL_SHAPES } from './gptqKernels';
import type { DeploySettings, KernelChoice, LinearDims, TargetTable } from './deployTypes';
import { fallback, fast, groupDivides, marlinBlocker, MARLIN_GROUP_SIZES, marlinTileAligned, refused } from './deployTypes';

const WIDE_GROUPS = [-1, 16, 32, 64, 128, 256, 512, 1024];

interface Candidate {
  kernel: string;
  /** Why it does not take this config (and layer), or '' when it does. */
  refuses(s: DeploySettings, d?: LinearDims): string;
}

const exllama = GPTQ_KERNEL_SHAPES.exllama_v2!;
const CANDIDATES: readonly Candidate[] = [
  {
    kernel: 'MarlinLinear',
    refuses: (s, d) =>
      marlinBlocker(s)?.why ?? (d && !marlinTileAligned(d) ? 'off the Marlin thread tile (automatic selection does not pad)' : ''),
  },
  {
    kernel: 'ExllamaV2Linear',
    refuses: (s, d) =>
      s.bits !== 4 || !MARLIN_GROUP_SIZES.includes(s.groupSize)
        ? 'ExLlama v2 takes 4 bits and group_size -1/32/64/128'
        : d && !exllama.takes(s, d.in, d.out)
          ? `ExLlama v2 needs ${exllama.needs(s)}`
          : '',
  },
  {
    kernel: 'TritonV2Linear',
    refuses: (s, d) =>
      ![2, 4, 8].includes(s.bits) || !WIDE_GROUPS.includes(s.groupSize)
        ? 'Triton takes bits 2/4/8'
        : d && (d.in % 32 || d.out % 32)
          ? 'Triton needs in and out % 32'
          : '',
  },
  {
    kernel: 'TorchLinear',
    refuses: (s) => (s.bits >= 2 && s.bits <= 8 && WIDE_GROUPS.includes(s.groupSize) ? '' : 'no kernel takes these bits and group_size'),
  },
];

function choose(s: DeploySettings, d?: LinearDims): KernelChoice | undefined {
  if (s.method !== 'gptq') return undefined;
  if (d && !groupDivides(s, d)) return refused(`group_size ${s.groupSize} does not divide in_features ${d.in}`, 'shape');
  const first = CANDIDATES[0]!.refuses(s, d);
  for (const c of CANDIDATES) {
    if (c.refuses(s, d)) continue;
    if (c === CANDIDATES[0]) return fast(c.kernel);
    const blocker = marlinBlocker(s);
    return fallback(c.kernel, first, blocker?.cause ?? 'shape');
  }
  return refused(CANDIDATES[CANDIDATES.length - 1]!.refuses(s, d), 'bits');
}

export const GPTQMODEL_TABLE: TargetTable = { release: 'GPTQModel 7.7', choose };
export const TRANSFORMERS_TABLE: TargetTable = { release: 'transformers 5.23', choose };
