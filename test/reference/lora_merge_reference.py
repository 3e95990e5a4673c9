"""PEFT 0.21.2's merge of a LoRA adapter into a model: merge_and_unload() on the fp32 model with the adapter loaded,
the merged weight of every module the adapter adapts written to a safetensors file, and PEFT's fp32 logits of the
merged model for one prompt.

stdin: {"model": folder, "adapter": folder, "out": file, "ids": [...]}; stdout: {"modules": [name, ...], "logits": file}.
"""
import json
import sys

import peft.tuners.lora.awq as lora_awq
import peft.tuners.lora.gptq as lora_gptq
import torch
from peft import PeftModel
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

# The venv holds gptqmodel without optimum, which PEFT's GPTQ/AWQ layer dispatch refuses even for a plain fp32 model.
lora_awq.is_gptqmodel_available = lora_gptq.is_gptqmodel_available = lambda: False


def main() -> None:
    request = json.load(sys.stdin)
    base = AutoModelForCausalLM.from_pretrained(request["model"], dtype=torch.float32).eval()
    model = PeftModel.from_pretrained(base, request["adapter"]).eval()
    adapter = load_file(f'{request["adapter"]}/adapter_model.safetensors')
    modules = sorted({k[len("base_model.model.") : -len(".lora_A.weight")] for k in adapter if k.endswith(".lora_A.weight")})
    merged = model.merge_and_unload()
    state = merged.state_dict()
    tensors = {m: state[f"{m}.weight"].float().contiguous() for m in modules}
    with torch.no_grad():
        tensors["logits"] = merged(torch.tensor([request["ids"]])).logits[0].float().contiguous()
    save_file(tensors, request["out"])
    json.dump({"modules": modules}, sys.stdout)


if __name__ == "__main__":
    main()
