"""Loads whole checkpoints the engine wrote with the upstream loaders and saves their logits and weights.

stdin: {"ids": [[token ids], ...], "cases": [{"name", "folder", "format": "gptq" | "awq-gemm" | "bnb4" | "bnb8" | "none"
(an unquantized model),
"out", "loader"?}]}. Each checkpoint is first loaded with transformers' AutoModelForCausalLM on CPU. Where transformers
refuses, the GPTQ fallbacks are GPTQModel's own loader (BACKEND.TORCH), then, where that refuses too,
transformers' Llama with every quantized layer dequantized by GPTQModel's TorchLinear. `out` receives fp32
`logits.<i>` per sequence; "loader": "gptqmodel" loads with GPTQModel only (an AWQ Mixture-of-Experts
checkpoint: transformers 5.23 builds its experts 3-D, leaves the per-expert AWQ tensors unexpected and the experts
random, and still returns a model), and and `<module>` = the dequantized [out, in] weight of every quantized Linear.
stdout: {"cases": {name: {"loader", "linear", "linearBases", "refused": [messages], "modelDtype", "firstRouterTie"?}},
"bnb4Bf16"}: `linear` is the class of the first quantized Linear, `linearBases` its method resolution order (class
names); `firstRouterTie` (Mixture-of-Experts models): per sequence, the first row whose routing is too close to call
against the runtime's (router_margins.py), or null.
"""
import glob
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file

from router_margins import RouterMargins


def checkpoint_tensors(folder):
    tensors = {}
    for file in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        tensors.update(load_file(file))
    return tensors


def refusal(error):
    return f"{type(error).__name__}: {str(error).splitlines()[0]}"


def load_transformers(folder):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder, device_map="cpu", dtype=torch.float32)


def lift_to_fp32(model):
    """fp32 activations on both sides: transformers keeps a bitsandbytes checkpoint's unquantized tensors in fp16
    whatever dtype asks (and refuses model.float()); GPTQModel's TorchLinear loads only in fp16. The quantized
    layers keep their own storage (TorchLinear's fp16 scales: its eager forward casts the dequantized weight to
    the input's dtype)."""
    for parameter in model.parameters():
        if parameter.dtype in (torch.float16, torch.bfloat16):
            parameter.data = parameter.data.float()


def load_gptqmodel(folder):
    from gptqmodel import BACKEND, GPTQModel

    # TorchLinear refuses dtype=float32 ("only supports [torch.float16, torch.bfloat16]").
    return GPTQModel.load(folder, backend=BACKEND.TORCH, device="cpu", dtype=torch.float16).model


def gptq_dequantize_layer(tensors, prefix, qcfg):
    from gptqmodel.nn_modules.qlinear.torch import TorchLinear
    from gptqmodel.utils.model import convert_gptq_v1_to_v2_format_module

    # A module's own bits and group size from its tensors (a config with dynamic overrides has several)
    qweight = tensors[prefix + ".qweight"]
    in_features = tensors[prefix + ".g_idx"].shape[0]
    bits = qweight.shape[0] * 32 // in_features
    group_size = in_features // tensors[prefix + ".scales"].shape[0]
    module = TorchLinear(bits=bits, group_size=group_size, sym=qcfg["sym"], desc_act=qcfg["desc_act"],
                         in_features=in_features, out_features=qweight.shape[1], bias=False)
    for name in ("qweight", "qzeros", "scales", "g_idx"):
        getattr(module, name).copy_(tensors[prefix + "." + name])
    convert_gptq_v1_to_v2_format_module(module, bits=bits, pack_dtype=torch.int32)
    module.post_init()
    return module.dequantize_weight().t().contiguous()


def load_dequantized_llama(folder, tensors, qcfg):
    """transformers' Llama in fp32 with every GPTQ layer replaced by what GPTQModel dequantizes it to; returns
    the model and those weights (in the dtype GPTQModel computed them in)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(folder)
    del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = {k: v.float() for k, v in tensors.items() if v.is_floating_point() and not k.endswith(".scales")}
    weights = {}
    for key in tensors:
        if key.endswith(".qweight"):
            prefix = key[: -len(".qweight")]
            weights[prefix] = gptq_dequantize_layer(tensors, prefix, qcfg)
            state[prefix + ".weight"] = weights[prefix].float()
    if config.tie_word_embeddings:  # the head is the embedding; state_dict() lists it under both names
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    model.load_state_dict(state, strict=True)
    return model, weights


def quantized_weights(model, format):
    """[out, in] weight of every quantized Linear the loaded model holds, as its own code dequantizes it and in
    the dtype it computes in (GPTQ/AWQ: the scales' dtype)."""
    import bitsandbytes.functional as F

    weights = {}
    for name, module in model.named_modules():
        if format == "gptq" and hasattr(module, "dequantize_weight") and hasattr(module, "qweight"):
            weights[name] = module.dequantize_weight().t().contiguous()
        elif format == "awq-gemm" and type(module).__name__ == "AwqTorchLinear":
            # GPTQModel 7.7's AWQ GEMM kernel on CPU: dequantize_gemm in the scales' dtype, as its forward computes.
            from gptqmodel.quantization.awq.utils.packing_utils import dequantize_gemm

            weights[name] = dequantize_gemm(module.qweight, module.qzeros, module.scales, module.bits,
                                            module.group_size).t().contiguous()
        elif format == "awq-gemm" and hasattr(module, "awq_weight_dequantize"):
            # Before the first forward: an fp16/bf16 forward repacks qweight for ATen's int4 kernel.
            weights[name] = module.awq_weight_dequantize("cpu", module.scales.dtype).t().contiguous()
        elif format == "bnb4" and type(module).__name__ == "Linear4bit":
            weights[name] = F.dequantize_4bit(module.weight.data, module.weight.quant_state)
        elif format == "bnb8" and type(module).__name__ == "Linear8bitLt":
            weights[name] = F.int8_vectorwise_dequant(module.weight.data, module.weight.SCB)
    return weights


def run_case(case, sequences):
    folder = case["folder"]
    tensors = checkpoint_tensors(folder)
    with open(os.path.join(folder, "config.json")) as file:
        config = json.load(file)
    qcfg = config.get("quantization_config", {})
    refused = []
    model = None
    loader = None
    fallback_weights = None
    if case.get("loader") == "gptqmodel":
        model, loader = load_gptqmodel(folder), "gptqmodel"
    else:
        try:
            model, loader = load_transformers(folder), "transformers"
        except Exception as error:  # noqa: BLE001 - every refusal is reported, not hidden
            refused.append("transformers: " + refusal(error))
    if model is None and case["format"] == "gptq":
        try:
            model, loader = load_gptqmodel(folder), "gptqmodel"
        except Exception as error:  # noqa: BLE001
            refused.append("gptqmodel: " + refusal(error))
            (model, fallback_weights), loader = load_dequantized_llama(folder, tensors, qcfg), "transformers-llama+gptqmodel-dequantize"
    if model is None:
        raise RuntimeError(f"{case['name']}: no upstream loader accepted {folder}: {refused}")
    model.eval()

    out = fallback_weights if fallback_weights is not None else quantized_weights(model, case["format"])
    lift_to_fp32(model)
    routers = RouterMargins(model, config) if "num_experts_per_tok" in config else None
    ties = []
    for i, ids in enumerate(sequences):
        out[f"logits.{i}"] = model(torch.tensor([ids])).logits[0].float().contiguous()
        if routers:
            ties.append(routers.first_tie())
    save_file(out, case["out"])
    modules = dict(model.named_modules())
    # Phi-3 keeps q, k and v in one qkv_proj.
    probe = modules.get("model.layers.0.self_attn.q_proj") or modules["model.layers.0.self_attn.qkv_proj"]
    return {"loader": loader, "linear": type(probe).__name__,
            "linearBases": [cls.__name__ for cls in type(probe).__mro__], "refused": refused,
            "modelDtype": str(model.model.embed_tokens.weight.dtype), **({"firstRouterTie": ties} if routers else {})}


def main():
    request = json.load(sys.stdin)
    # The libraries log banners to stdout; keep stdout for the JSON reply alone.
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    torch.manual_seed(0)
    results = {}
    # GPTQModel changes process-wide torch settings on import, so the bitsandbytes cases run first.
    cases = sorted(request["cases"], key=lambda case: case["format"] in ("gptq", "awq-gemm"))
    with torch.no_grad():
        for case in cases:
            results[case["name"]] = run_case(case, request["ids"])
    sys.stdout.flush()
    os.dup2(reply_fd, 1)
    from bitsandbytes.functional import has_avx512bf16

    # On CPUs with AVX512-BF16, bitsandbytes 0.50 registers a fused CPU gemv_4bit that casts activations and
    # absmax to bf16 (bitsandbytes/backends/cpu/ops.py): its 4-bit logits then carry bf16 rounding.
    print(json.dumps({"cases": results, "bnb4Bf16": bool(has_avx512bf16())}))


if __name__ == "__main__":
    main()
