// vLLM's choice of GPTQ linear method and kernel, restated from vLLM main at commit 055e47c:
// layers/quantization/gptq_marlin.py (GPTQMarlinConfig.TYPE_MAP, is_gptq_marlin_compatible: bits 4/8 with
// sym true and a Marlin group size, else the plain `gptq` method), utils/marlin_utils.py (MARLIN_SUPPORTED_GROUP_SIZES,
// marlin_padded_nk: misaligned tiles are zero-padded, "performance may be degraded") and
// kernels/linear/mixed_precision/marlin.py + exllama.py (MarlinLinearKernel.can_implement keeps act-order
// shapes strict; ExllamaLinearKernel is next: float16 activations, a positive group dividing in_features).
// AWQ (GEMM layout) follows awq_marlin.py of the same main line: AWQMarlinConfig.TYPE_MAP {4: uint4} with zero
// points, a Marlin group size, check_marlin_supports_layer(allow_tile_padding=True) per layer, else the plain
// `awq` method ("Falling back to unoptimized AWQ kernels"). For one GPU (tensor parallel 1); AWQ GEMV and
// bitsandbytes are not in this table.
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

const AWQ_MARLIN = 'awq_marlin (MarlinLinearKernel)';
const AWQ_PLAIN = 'awq (unoptimized AWQ kernels)';

function awq(s: DeploySettings, d?: LinearDims): KernelChoice {
  const blocker = marlinBlocker(s);
  if (blocker) return fallback(AWQ_PLAIN, `${blocker.why}: not awq_marlin-compatible, served by the plain awq method`, blocker.cause);
  if (s.sym) return fallback(AWQ_PLAIN, 'awq_marlin takes AWQ with zero points only (zero_point true)', 'zero_point');
  if (!d) return fast(AWQ_MARLIN);
  if (!groupDivides(s, d))
    return fallback(AWQ_PLAIN, `group_size ${s.groupSize} does not divide in_features ${d.in}: this layer falls back`, 'shape');
  if (marlinTileAligned(d)) return fast(AWQ_MARLIN);
  return fallback(
    `${AWQ_MARLIN.slice(0, -1)}, tile-padded)`,
    'zero-padded to a Marlin thread tile: activations and outputs are padded and sliced on every forward',
    'shape',
  );
}

export const VLLM_TABLE: TargetTable = {
  release: RELEASE,
  choose: (s, d) => (s.method === 'gptq' ? gptq(s, d) : s.method === 'awq' && s.format === 'gemm' ? awq(s, d) : undefined),
};
