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


def report_layers(total):
    """llm-compressor runs one subgraph per decoder layer and compresses it at each sequential epoch's end: each
    end is a layer done (the last subgraph, after the decoder layers, is not)."""
    from llmcompressor.core import LifecycleCallbacks

    original = LifecycleCallbacks.sequential_epoch_end
    state = {"index": 0, "at": time.monotonic()}

    def reporting(*args, **kwargs):
        result = original(*args, **kwargs)
        if state["index"] < total:
            now = time.monotonic()
            emit({"type": "layer", "index": state["index"], "total": total, "seconds": now - state["at"]})
            state["index"] += 1
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
    report_layers(model.config.num_hidden_layers)
    windows = [
        {"input_ids": torch.tensor([w]), "attention_mask": torch.ones(1, len(w), dtype=torch.long)} for w in job["calibration"]
    ]
    emit({"type": "phase", "phase": "quantize", "device": device})
    # A list of ready batches is a DataLoader to oneshot: no dataset library, no tokenizer, the windows as given.
    loader = torch.utils.data.DataLoader(windows, batch_size=None)
    oneshot(model=model, recipe=recipe, dataset=loader, num_calibration_samples=len(windows), pipeline="sequential")
    emit({"type": "phase", "phase": "write", "device": device})
    model.save_pretrained(job["out"], save_compressed=True)
