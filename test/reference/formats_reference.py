"""Loads layers the engine packed with the upstream libraries and saves what they reconstruct.

stdin: {"cases": [{"kind": "bnb4" | "bnb8" | "gptq" | "awq-gemm", "file": packed layer, "prefix": ..., "source": fp32
weights (tensor "w"), "out": where to save, plus per-kind settings}]}; stdout: {"done": n}.
bnb4/bnb8 also re-quantize the source with bitsandbytes so the packed bytes can be compared.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file


def bnb4(case):
    import bitsandbytes.functional as F

    layer = load_file(case["file"])
    weight = case["prefix"] + ".weight"
    state_dict = {k[len(weight) + 1:]: v for k, v in layer.items() if k.startswith(weight + ".")}
    state = F.QuantState.from_dict(state_dict, device=torch.device("cpu"))
    dequantized = F.dequantize_4bit(layer[weight], state).float()
    source = load_file(case["source"])["w"]
    packed, ours = F.quantize_4bit(source, blocksize=64, compress_statistics=case["nested"], quant_type=case["type"])
    out = {"dequantized": dequantized, "packed": packed, "absmax": ours.absmax}
    if case["nested"]:
        out["nested_absmax"] = ours.state2.absmax
        out["offset"] = ours.offset.reshape(1).float()
    save_file({k: v.contiguous() for k, v in out.items()}, case["out"])


def bnb8(case):
    import bitsandbytes.functional as F

    layer = load_file(case["file"])
    prefix = case["prefix"]
    dequantized = F.int8_vectorwise_dequant(layer[prefix + ".weight"], layer[prefix + ".SCB"]).float()
    # transformers quantizes the fp16 weight.
    cb, scb, _ = F.int8_vectorwise_quant(load_file(case["source"])["w"].half())
    save_file({"dequantized": dequantized.contiguous(), "weight": cb.contiguous(), "SCB": scb.contiguous()}, case["out"])


def gptq(case):
    from gptqmodel.nn_modules.qlinear.torch import TorchLinear
    from gptqmodel.utils.model import convert_gptq_v1_to_v2_format_module

    layer = load_file(case["file"])
    prefix = case["prefix"]
    module = TorchLinear(bits=case["bits"], group_size=case["groupSize"], sym=case["sym"], desc_act=case["descAct"],
                         in_features=case["cols"], out_features=case["rows"], bias=False)
    for name in ("qweight", "qzeros", "scales", "g_idx"):
        getattr(module, name).copy_(layer[prefix + "." + name])
    convert_gptq_v1_to_v2_format_module(module, bits=case["bits"], pack_dtype=torch.int32)
    module.post_init()
    weight = module.dequantize_weight().float()  # [in, out]
    save_file({"dequantized": weight.t().contiguous()}, case["out"])


def awq_gemm(case):
    from gptqmodel.quantization.awq.utils.packing_utils import dequantize_gemm

    layer = load_file(case["file"])
    prefix = case["prefix"]
    weight = dequantize_gemm(layer[prefix + ".qweight"], layer[prefix + ".qzeros"], layer[prefix + ".scales"],
                             4, case["groupSize"]).float()  # [in, out]
    save_file({"dequantized": weight.t().contiguous()}, case["out"])


def main():
    request = json.load(sys.stdin)
    handlers = {"bnb4": bnb4, "bnb8": bnb8, "gptq": gptq, "awq-gemm": awq_gemm}
    # The libraries log banners to stdout; keep stdout for the JSON reply alone.
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    # GPTQModel changes process-wide torch settings on import, so the bitsandbytes cases run first.
    cases = sorted(request["cases"], key=lambda case: case["kind"] in ("gptq", "awq-gemm"))
    with torch.no_grad():
        for case in cases:
            handlers[case["kind"]](case)
    sys.stdout.flush()
    os.dup2(reply_fd, 1)
    print(json.dumps({"done": len(request["cases"])}))


if __name__ == "__main__":
    main()
