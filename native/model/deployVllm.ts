// vLLM's choice of GPTQ linear method and kernel, restated from vLLM main at commit 055e47c:
// layers/quantization/gptq_marlin.py (GPTQMarlinConfig.TYPE_MAP, is_gptq_marlin_compatible: bits 4/8 with
// sym true and a Marlin group size, else the plain `gptq` method), utils/marlin_utils.py (MARLIN_SUPPORTED_GROUP_SIZES,
// marlin_padded_nk: misaligned tiles are zero-padded, "performance may be degraded") and
// kernels/linear/mixed_precision/marlin.py + exllama.py (MarlinLinearKernel.can_implement keeps act-order
// shapes strict; ExllamaLinearKernel is next: float16 activations, a positive group dividing in_features).
// For one GPU (tensor parallel 1); AWQ and bitsandbytes are not in this table.
import type { DeploySettings, KernelChoice, LinearDims, TargetTable } from './deployTypes';
import { actOrder, fallback, fast, groupDivides, marlinBlocker, marlinTileAligned, refused } from './deployTypes';

const RELEASE = 'vLLM main@055e47c';
const MARLIN = 'gptq_marlin (MarlinLinearKernel)';

function exllamaOrRefused(s: DeploySettings, d: LinearDims, why: string): KernelChoice {
  const takes = s.groupSize > 0 && d.in % s.groupSize === 0 && d.out % (32 / s.bits) === 0;
  return takes
    ? fallback('gptq_marlin (ExllamaLinearKernel, float16 activations only)', `${why}; the ExLlama kernel takes it instead`, 'shape')
    : refused(`${why}, and the ExLlama kernel needs a positive group_size dividing in_features`, 'shape');
}

function gptq(s: DeploySettings, d?: LinearDims): KernelChoice {
  const blocker = marlinBlocker(s);
  if (blocker)
    return fallback(
      'gptq (gptq_gemm, float16 only)',
      `${blocker.why}: not gptq_marlin-compatible, served by the plain gptq method`,
      blocker.cause,
    );
  if (!d) return fast(MARLIN);
  if (actOrder(s, d)) {
    if (marlinTileAligned(d) && groupDivides(s, d)) return fast(MARLIN);
    return exllamaOrRefused(s, d, `Marlin keeps act-order (desc_act) shapes strict (out % 64 and in % 128, or out % 128 and in % 64)`);
  }
  if (!groupDivides(s, d)) return refused(`group_size ${s.groupSize} does not divide in_features ${d.in}`, 'shape');
  if (marlinTileAligned(d)) return fast(MARLIN);
  return fallback(
    'gptq_marlin (MarlinLinearKernel, tile-padded)',
    'zero-padded to a Marlin thread tile: activations and outputs are padded and sliced on every forward',
    'shape',
  );
}

export const VLLM_TABLE: TargetTable = {
  release: RELEASE,
  choose: (s, d) => (s.method === 'gptq' ? gptq(s, d) : undefined),
};
