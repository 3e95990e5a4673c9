"""A random-weight model of Llama-2-7B's exact shapes quantized on a CUDA machine by each library the python
backend drives, through its own runner fed exactly what the worker feeds it (native/worker/python/
quantstudio_quantize.py): GPTQ 4-bit g128 through GPTQModel 7.7 (calibration: 32 windows of 512 random token ids)
and NF4 through transformers + bitsandbytes 0.50. Each runner's JSON lines (per-layer times, peak memory) go to
<output>/quantize7b-<method>.jsonl, with the written folder's size and files.

    python3 test/bench/_gpu_quantize_7b.py <work folder> <output folder> [--budget SECONDS]
"""
import json
import os
import random
import sys
import time

import _gpu_seeds_table as seeds

# meta-llama/Llama-2-7b-hf config.json
LLAMA_2_7B = {**seeds.LLAMA_2_13B, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32}

# The plans the worker resolves (native/lib planFromConfig, defaults from the schemas) from the configs below.
GPTQ_PLAN = dict(method="gptq", layout="gptq", bits=4, groupSize=128, sym=True, descAct=False, staticGroups=False,
                 dampPercent=0.1, dampAutoIncrement=0.0025, trueSequential=True, skipModules=[])
NF4_PLAN = dict(method="nf4", layout="bnb4", doubleQuant=False, computeDtype="float32", skipModules=[])


def folder_summary(folder):
    files = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    return {"files": files, "bytes": sum(os.path.getsize(os.path.join(folder, f)) for f in files if os.path.isfile(os.path.join(folder, f)))}


def main():
    work, out = sys.argv[1], sys.argv[2]
    budget = float(sys.argv[sys.argv.index("--budget") + 1]) if "--budget" in sys.argv else 480
    deadline = time.monotonic() + budget
    os.makedirs(out, exist_ok=True)
    import torch

    seeds.SHAPE = LLAMA_2_7B
    torch.manual_seed(0)
    random.seed(0)
    fp16 = os.path.join(work, "fp16-7b")
    started = time.monotonic()
    seeds.make_fp16(torch, fp16)
    torch.cuda.empty_cache()
    summary = {"gpu": torch.cuda.get_device_name(), "made_seconds": time.monotonic() - started}
    seeds.log("made", fp16)
    calibration = [[random.randrange(3, 32000) for _ in range(512)] for _ in range(32)]
    jobs = [
        ("nf4", {"plan": NF4_PLAN, "config": {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"}, "calibration": []}),
        ("gptq", {"plan": GPTQ_PLAN, "config": {"quant_method": "gptq", "bits": 4, "group_size": 128}, "calibration": calibration}),
    ]
    for name, job in jobs:
        target = os.path.join(work, f"{name}-7b")
        os.makedirs(target)
        left = deadline - time.monotonic()
        if left < 30:
            seeds.log("no time left for", name)
            continue
        code = seeds.run_runner("quantstudio_quantize.py", {**job, "source": fp16, "out": target}, os.path.join(out, f"quantize7b-{name}.jsonl"), left)
        summary[name] = {"exit": code, **folder_summary(target)}
    with open(os.path.join(out, "quantize7b-summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
