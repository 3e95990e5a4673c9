// llama.cpp serves GGUF files only; a safetensors checkpoint reaches it through convert_hf_to_gguf.py.
// Restated from the llama.cpp vendored in llama-cpp-python 0.3.36, conversion/base.py (ModelBase's
// quantization_config handling): GPTQ is dequantized to float (dequant_gptq: bits 2, 4 and 8; 3 bits raise
// NotImplementedError), so the GPTQ rounding is lost unless the float model is quantized again with
// llama-quantize; any other quant_method it does not know (awq, bitsandbytes) raises "Quant method is not yet supported".
import type { DeploySettings, KernelChoice, TargetTable } from './deployTypes';
import { fallback, refused } from './deployTypes';

function choose(s: DeploySettings): KernelChoice {
  if (s.method !== 'gptq')
    return refused(`convert_hf_to_gguf.py does not convert quant_method ${s.method} ("Quant method is not yet supported")`, 'method');
  if (s.bits === 3) return refused('convert_hf_to_gguf.py cannot dequantize 3-bit GPTQ ("not yet implemented")', 'bits');
  return fallback(
    'GGUF (convert_hf_to_gguf.py dequantizes to float)',
    'llama.cpp runs GGUF only: the GPTQ weights are dequantized to float when converted, and their rounding is lost unless quantized again with llama-quantize',
    'format',
  );
}

export const LLAMA_CPP_TABLE: TargetTable = { release: 'llama.cpp (llama-cpp-python 0.3.36)', choose };
