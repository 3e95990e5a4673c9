"""How QuantStudio's Python runners open a checkpoint folder: transformers 5.23 (bitsandbytes checkpoints through
bitsandbytes 0.50), GPTQ and AWQ checkpoints by GPTQModel 7.7's loader (the same transformers model with
GPTQModel's kernels, which transformers' own GPTQ path would also pick, without the optimum package that path
needs), on CUDA when torch sees a GPU (`device_map="auto"`: a model larger than one GPU spreads over all of them),
else on the CPU in fp32 (as the engine computes; torch's half-precision CPU kernels are slow and round differently).
"""
import json
import os
import sys

from quantstudio_common import JobError, check_libraries

# The library that holds each quantization method's kernels for transformers 5.23 (its quantizers' requirements).
METHOD_LIBRARIES = {"gptq": ["gptqmodel"], "awq": ["gptqmodel"], "bitsandbytes": ["bitsandbytes"], "compressed-tensors": ["compressed_tensors"]}


def quant_method(folder):
    """The checkpoint's quantization_config.quant_method, None for an unquantized model."""
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as error:
        raise JobError("BAD_CONFIG", f"{folder}/config.json could not be read: {error}")
    return (config.get("quantization_config") or {}).get("quant_method")


def check_model_libraries(what, method, device):
    """The libraries opening a `method` checkpoint on `device` needs, named with the pip line when missing."""
    extra = METHOD_LIBRARIES.get(method, []) + (["accelerate"] if device == "cuda" else [])
    return check_libraries(f"{what} of a {method} checkpoint" if method else what, extra)


def gptqmodel_backend(kernel):
    """A job's `kernel` as GPTQModel 7.7's BACKEND (default "auto": GPTQModel picks per layer and device)."""
    import importlib.metadata

    from gptqmodel.utils.backend import BACKEND

    try:
        return BACKEND(kernel or "auto")
    except ValueError:
        names = ", ".join(b.value for b in BACKEND)
        version = importlib.metadata.version("gptqmodel")
        raise JobError("BAD_CONFIG", f'kernel "{kernel}" is not one of GPTQModel {version}\'s backends: {names}')


def load_model(torch, device, folder, method, kernel=None):
    """The model in eval mode, and the device its inputs go to."""
    from transformers import AutoModelForCausalLM

    on_cuda = device == "cuda"
    placement = dict(device_map="auto", dtype="auto") if on_cuda else dict(dtype=torch.float32)
    if method in ("gptq", "awq"):
        from gptqmodel import GPTQModel

        model = GPTQModel.load(folder, **placement, **({} if on_cuda else {"device": "cpu"}), backend=gptqmodel_backend(kernel)).model
    else:
        model = AutoModelForCausalLM.from_pretrained(folder, **placement)
    model.eval()
    placed = sorted({str(d) for d in (getattr(model, "hf_device_map", None) or {}).values()})
    if on_cuda and any(d in ("cpu", "disk") for d in placed):
        print(f"quantstudio: part of {folder} was offloaded to {', '.join(placed)}: the GPUs' memory is too small", file=sys.stderr)
    return model, model.get_input_embeddings().weight.device


def kernel_of(model):
    """The class that runs the first quantized linear (a GPTQModel kernel, which holds packed `qweight`, or
    bitsandbytes' Linear4bit / Linear8bitLt), else torch's Linear."""
    for module in model.modules():
        name = type(module).__name__
        if hasattr(module, "qweight") or name in ("Linear4bit", "Linear8bitLt"):
            return f"{type(module).__module__.split('.')[0]} {name}"
    return f"torch Linear ({str(model.dtype).replace('torch.', '')})"
