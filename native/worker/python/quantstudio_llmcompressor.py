"""GPTQ and AWQ through llm-compressor 0.14 into the compressed-tensors format vLLM loads (pack-quantized W*A16),
for quantize jobs on the `python` backend whose job sets `format: "compressed-tensors"`: the modifiers the job's
recipe names (native/model/pythonBackendRecipe.ts: GPTQModifier, or AWQModifier then QuantizationModifier, with
compressed-tensors 0.19 schemes), run by oneshot on the same calibration token windows as the engine.
"""
import time

from quantstudio_common import JobError, emit


def modifier(call):
    """One llm-compressor modifier from the recipe; its config_groups as compressed-tensors 0.19 schemes."""
    import importlib

    from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme

    kwargs = dict(call["kwargs"])
    if "config_groups" in kwargs:
        try:
            kwargs["config_groups"] = {
                name: QuantizationScheme(**{**group, "weights": QuantizationArgs(**group["weights"])})
                for name, group in kwargs["config_groups"].items()
            }
        except (TypeError, ValueError) as error:
            raise JobError("BAD_CONFIG", f"compressed-tensors refused the job's scheme {call['kwargs']['config_groups']}: {error}")
    return getattr(importlib.import_module(call["module"]), call["name"])(**kwargs)


def decoder_layers(model):
    """The decoder layers: the ModuleList as long as the config's num_hidden_layers (model.model.layers in Llama)."""
    import torch

    total = model.config.num_hidden_layers
    for _, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == total:
            return list(module)
    return []


def report_layers(model):
    """llm-compressor's sequential pipeline calibrates one subgraph at a time (the embedding alone first, then one per
    decoder layer, the last with the model's tail) and compresses it at the sequential epoch's end: an end whose
    modules hold decoder layer i is layer i done."""
    from llmcompressor.core import LifecycleCallbacks

    layers = {id(m): i for i, m in enumerate(decoder_layers(model))}
    original = LifecycleCallbacks.sequential_epoch_end
    state = {"at": time.monotonic()}

    def reporting(modules, *args, **kwargs):
        result = original(modules, *args, **kwargs)
        done = [layers[id(m)] for m in modules if id(m) in layers]
        if done:
            now = time.monotonic()
            emit({"type": "layer", "index": max(done), "total": len(layers), "seconds": now - state["at"]})
            state["at"] = now
        return result

    LifecycleCallbacks.sequential_epoch_end = reporting


def quantize_llmcompressor(job, device):
    import torch
    from llmcompressor import oneshot
    from transformers import AutoModelForCausalLM

    if job["plan"]["method"] == "awq" and device != "cuda":
        # Before any work: AWQModifier pins its cached activations for the grid search (llmcompressor/pipelines/cache.py,
        # IntermediatesCache.pin_memory), and torch pins memory only with a CUDA driver.
        raise JobError(
            "UNSUPPORTED_DEVICE",
            "llm-compressor 0.14's AWQ needs a CUDA GPU: it pins its cached activations, which torch cannot do without one. "
            "On this machine use GPTQ into compressed-tensors, or AWQ in its own GEMM/GEMV format (remove format)",
        )
    recipe = [modifier(call) for call in job["recipe"]["calls"]]
    emit({"type": "phase", "phase": "load", "device": device})
    model = AutoModelForCausalLM.from_pretrained(job["source"], dtype="auto")
    report_layers(model)
    windows = [
        {"input_ids": torch.tensor([w]), "attention_mask": torch.ones(1, len(w), dtype=torch.long)} for w in job["calibration"]
    ]
    emit({"type": "phase", "phase": "quantize", "device": device})
    # A list of ready batches is a DataLoader to oneshot: no dataset library, no tokenizer, the windows as given.
    loader = torch.utils.data.DataLoader(windows, batch_size=None)
    oneshot(model=model, recipe=recipe, dataset=loader, num_calibration_samples=len(windows), pipeline="sequential")
    emit({"type": "phase", "phase": "write", "device": device})
    model.save_pretrained(job["out"], save_compressed=True)
