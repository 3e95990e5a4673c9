"""The bytes transformers 5.23's DynamicCache holds after a prefill, per fixture and prompt length.

stdin: {"fixtures": [folder, ...], "batch": B, "seqs": [S, ...]}; stdout: {folder: {S: bytes}}. Each model loads in
its config's dtype (the estimate's compute dtype); the cache is what model(input_ids, use_cache=True) returns.
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def main() -> None:
    request = json.load(sys.stdin)
    result = {}
    for folder in request["fixtures"]:
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        sizes = {}
        for seq in request["seqs"]:
            ids = (torch.arange(request["batch"] * seq) % 900 + 1).reshape(request["batch"], seq)
            with torch.no_grad():
                cache = model(ids, use_cache=True).past_key_values
            sizes[str(seq)] = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
        result[folder] = sizes
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
