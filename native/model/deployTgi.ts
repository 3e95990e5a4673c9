// Text Generation Inference's GPTQ/AWQ Marlin path, restated from huggingface/text-generation-inference at
// commit 1629d0b, server/text_generation_server/layers/marlin/gptq.py: can_use_gptq_marlin (CUDA sm 8.0+,
// bits 4/8, group_size -1/32/64/128, sym true or AWQ), repack_gptq_for_marlin (in_features % group_size, else
// ValueError) and GPTQMarlinLinear's _check_valid_shape (no padding: a misaligned layer fails to load). A
// config Marlin cannot take is served by the non-Marlin GPTQ / AWQ loaders (layers/gptq, layers/awq).
import type { DeploySettings, KernelChoice, LinearDims, TargetTable } from './deployTypes';
import { fallback, fast, groupDivides, marlinBlocker, marlinTileAligned, refused } from './deployTypes';

const MARLIN = 'GPTQMarlinLinear';

function choose(s: DeploySettings, d?: LinearDims): KernelChoice | undefined {
  if (s.method === 'bitsandbytes') return undefined;
  const blocker = marlinBlocker(s);
  if (blocker) {
    const loader = s.method === 'awq' ? 'AWQ loader (layers/awq)' : 'GPTQ loader (layers/gptq)';
    return fallback(loader, `${blocker.why}: can_use_gptq_marlin is false`, blocker.cause);
  }
  if (!d) return fast(MARLIN);
  if (!groupDivides(s, d)) return refused(`group_size ${s.groupSize} does not divide in_features ${d.in}`, 'shape');
  if (!marlinTileAligned(d)) return refused('GPTQMarlinLinear needs (in % 128, out % 64) or (in % 64, out % 128)', 'shape');
  return fast(MARLIN);
}

export const TGI_TABLE: TargetTable = { release: 'TGI main@1629d0b', choose };
