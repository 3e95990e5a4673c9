"""GPTQ and AWQ through llm-compressor 0.14 into the compressed-tensors format vLLM loads (pack-quantized W*A16),
for quantize jobs on the `python` backend whose job sets `format: "compressed-tensors"`. The job's resolved
settings map onto compressed-tensors 0.19 QuantizationArgs: bits → num_bits, group_size → group (−1: one group per
output channel), sym (GPTQ) / not zero_point (AWQ) → symmetric, damp_percent → GPTQModifier's dampening_frac;
skipped modules (and lm_head) go to the modifiers' `ignore`. The same calibration token windows as the engine.
"""
import re
import time

from quantstudio_common import JobError, emit


def weight_args(plan):
    from compressed_tensors.quantization import QuantizationArgs

    per_channel = plan["groupSize"] in (-1, None)
    symmetric = plan["sym"] if plan["method"] == "gptq" else not plan["zeroPoint"]
    settings = dict(num_bits=plan["bits"], type="int", symmetric=symmetric, strategy="channel" if per_channel else "group")
    if not per_channel:
        settings["group_size"] = plan["groupSize"]
    try:
        return QuantizationArgs(**settings)
    except (TypeError, ValueError) as error:
        raise JobError("BAD_CONFIG", f"compressed-tensors QuantizationArgs refused the job's settings {settings}: {error}")


def recipe_of(plan):
    """llm-compressor 0.14's modifiers: GPTQModifier with the scheme, or AWQModifier (the smoothing) then a
    QuantizationModifier with the scheme, as its own AWQ examples build them."""
    from compressed_tensors.quantization import QuantizationScheme
    from llmcompressor.modifiers.quantization import GPTQModifier, QuantizationModifier

    groups = {"group_0": QuantizationScheme(targets=["Linear"], weights=weight_args(plan))}
    ignore = ["lm_head"] + [f"re:^{re.escape(m)}$" for m in plan.get("skipModules", []) if m != "lm_head"]
    if plan["method"] == "gptq":
        # actorder None is GPTQConfig's desc_act=False order (llm-compressor's own default reorders statically).
        return GPTQModifier(config_groups=groups, ignore=ignore, dampening_frac=plan["dampPercent"], actorder=None)
    from llmcompressor.modifiers.transform.awq import AWQModifier

    return [AWQModifier(), QuantizationModifier(config_groups=groups, ignore=ignore)]


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

    plan = job["plan"]
    if plan["method"] == "awq" and device != "cuda":
        # Before any work: AWQModifier pins its cached activations for the grid search (llmcompressor/pipelines/cache.py,
        # IntermediatesCache.pin_memory), and torch pins memory only with a CUDA driver.
        raise JobError(
            "UNSUPPORTED_DEVICE",
            "llm-compressor 0.14's AWQ needs a CUDA GPU: it pins its cached activations, which torch cannot do without one. "
            "On this machine use GPTQ into compressed-tensors, or AWQ in its own GEMM/GEMV format (remove format)",
        )
    recipe = recipe_of(plan)
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
