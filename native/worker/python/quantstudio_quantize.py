"""QuantStudio's runner for quantize jobs on the `python` backend: the job's recipe (native/model/
pythonBackendRecipe.ts maps the settings QuantStudio resolved, defaults from its schemas, key for key) called as
given: GPTQModel 7.7's QuantizeConfig (GPTQ, and AWQ with its GEMM / GEMV layouts) or transformers 5.23's
BitsAndBytesConfig with bitsandbytes 0.50 (NF4 / FP4 / LLM.int8, serialized with save_pretrained); with
`format: "compressed-tensors"`, llm-compressor 0.14's modifiers (quantstudio_llmcompressor.py).

Protocol: the job is one JSON line on stdin; every report is one JSON line on stdout:
  {"type": "phase", "phase": "load" | "quantize" | "write", "device": ...}
  {"type": "layer", "index": i, "total": n, "seconds": s}
  {"type": "result", "device": ..., "libraries": {...}, "seconds": s, "peakRssBytes": n[, "cudaMaxAllocatedBytes": n]}
  {"type": "error", "code": ..., "message": ...}
Library logs go to stderr. The runner writes only into the job's `out` folder (a staging folder the caller
renames on success) and never installs anything. When stdin closes (the job process is gone) it exits at once.
"""
import json
import os
import sys
import time

from quantstudio_common import FOLLOWED, LLMCOMPRESSOR_PINS, JobError, check_libraries, device_of, emit, main, peak_memory, with_library_errors

NEEDS = {
    "gptq": ["torch", "transformers", "gptqmodel"],
    "awq": ["torch", "transformers", "gptqmodel"],
    "bitsandbytes": ["torch", "transformers", "bitsandbytes"],
}


def only_call(job):
    """The job's one library call (native/model/pythonBackendRecipe.ts builds it from the plan)."""
    (call,) = job["recipe"]["calls"]
    return call


def quantize_config(job, device):
    """GPTQModel 7.7 QuantizeConfig with the recipe's arguments, its enums spelled as GPTQModel's own."""
    from gptqmodel import QuantizeConfig
    from gptqmodel.quantization.config import FORMAT, METHOD

    settings = dict(only_call(job)["kwargs"])
    if "quant_method" in settings:
        settings["quant_method"] = METHOD(settings["quant_method"])
    settings["format"] = FORMAT(settings["format"])
    try:
        return QuantizeConfig(**settings, device=device)
    except (TypeError, ValueError) as error:
        raise JobError("BAD_CONFIG", f"GPTQModel 7.7 QuantizeConfig refused the job's settings {settings}: {error}")


def quantize_gptqmodel(job, device):
    # GPTQModel 7.7 sizes its CPU pool at half the cores while its model loader asks for 2 workers, which fails
    # on a 2- or 3-core machine ("requests 2 workers but parent 'cpu' only has 1"); a set value is kept.
    os.environ.setdefault("GPTQMODEL_CPU_WORKERS", str(max(2, (os.cpu_count() or 1) // 2)))
    import torch
    from gptqmodel import GPTQModel

    config = quantize_config(job, device)
    emit({"type": "phase", "phase": "load", "device": device})
    model = GPTQModel.load(job["source"], config)
    total = model.model.config.num_hidden_layers
    started = {"at": time.monotonic()}
    seen = set()

    def layer_done(layer_idx, submodule_finalized):
        # GPTQModel 7.7's looper calls this once a layer's modules are quantized (then again when finalized).
        if layer_idx in seen:
            return None
        seen.add(layer_idx)
        now = time.monotonic()
        emit({"type": "layer", "index": layer_idx, "total": total, "seconds": now - started["at"]})
        started["at"] = now
        return None

    model.layer_callback = layer_done
    windows = [{"input_ids": w, "attention_mask": [1] * len(w)} for w in job["calibration"]]
    emit({"type": "phase", "phase": "quantize", "device": device})
    with torch.inference_mode(False):
        model.quantize(windows, batch_size=1)
    emit({"type": "phase", "phase": "write", "device": device})
    model.save(job["out"])
    forget_scratch(job["out"])


def forget_scratch(folder):
    """GPTQModel 7.7 records its offload folder (inside the job's scratch, gone after the run) in the configs'
    `meta`; the checkpoint keeps every other field as GPTQModel wrote it."""
    for name, key in (("config.json", "quantization_config"), ("quantize_config.json", None)):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        section = data.get(key) if key else data
        if isinstance(section, dict) and isinstance(section.get("meta"), dict) and section["meta"].pop("offload_to_disk_path", None):
            with open(path, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2)
                f.write("\n")


def bnb_config(job):
    """transformers 5.23 BitsAndBytesConfig with the recipe's arguments."""
    import torch
    from transformers import BitsAndBytesConfig

    settings = dict(only_call(job)["kwargs"])
    if "bnb_4bit_compute_dtype" in settings:
        settings["bnb_4bit_compute_dtype"] = getattr(torch, settings["bnb_4bit_compute_dtype"])
    try:
        return BitsAndBytesConfig(**settings)
    except (TypeError, ValueError) as error:
        raise JobError("BAD_CONFIG", f"transformers 5.23 BitsAndBytesConfig refused the job's settings: {error}")


def quantize_bnb(job, device):
    from transformers import AutoModelForCausalLM

    config = bnb_config(job)
    emit({"type": "phase", "phase": "load", "device": device})
    # bitsandbytes quantizes each Linear as transformers loads it; the unquantized tensors keep the source's dtype.
    # On CUDA, accelerate spreads a model larger than one GPU over all of them.
    device_map = "auto" if device == "cuda" else "cpu"
    model = AutoModelForCausalLM.from_pretrained(job["source"], quantization_config=config, device_map=device_map, dtype="auto")
    emit({"type": "phase", "phase": "write", "device": device})
    model.save_pretrained(job["out"])


def quantizer_of(job):
    """(what, the packages it needs, their pins, the function that quantizes) for the job's method and format."""
    method = "bitsandbytes" if job["plan"]["method"] in ("nf4", "fp4", "int8") else job["plan"]["method"]
    if method not in NEEDS:
        raise JobError("BAD_CONFIG", f"the python backend quantizes gptq, awq and bitsandbytes configs; {method} runs on the engine backend")
    if job.get("format") == "compressed-tensors":
        from quantstudio_llmcompressor import quantize_llmcompressor

        packages = ["torch", "transformers", "llmcompressor", "compressed_tensors"]
        return f"{method} into compressed-tensors", packages, LLMCOMPRESSOR_PINS, quantize_llmcompressor
    return method, NEEDS[method], FOLLOWED, quantize_bnb if method == "bitsandbytes" else quantize_gptqmodel


def run(job):
    what, packages, pins, quantize = quantizer_of(job)
    libraries = check_libraries(what, packages, pins)
    import torch

    device = device_of(torch)
    started = time.monotonic()
    with_library_errors(torch, device, lambda: quantize(job, device))
    emit({"type": "result", "device": device, "libraries": libraries, "seconds": time.monotonic() - started, **peak_memory(torch, device)})


if __name__ == "__main__":
    sys.exit(main(run))
