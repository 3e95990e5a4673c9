"""A random-weight model of Llama-2-7B's exact shapes quantized on a CUDA machine by each library the python
backend drives, through its own runner fed exactly what the worker feeds it (native/worker/python/
quantstudio_quantize.py): GPTQ 4-bit g128 through GPTQModel 7.7 (calibration: 32 windows of 512 random token ids)
and NF4 through transformers + bitsandbytes 0.50; GPTQ and AWQ 4-bit g128 into compressed-tensors through
llm-compressor 0.14 (jobs gptq-ct, awq-ct: the job's `format: "compressed-tensors"`). Each runner's JSON lines
(per-layer times, peak memory) go to <output>/quantize7b-<job>.jsonl; the written folder's size and files and its
config.json's quantization_config to <output>/quantize7b-summary.json (the default jobs) or
quantize7b-summary-<job>-<job>.json (any other choice).

    python3 test/bench/_gpu_quantize_7b.py <work folder> <output folder> [--budget SECONDS] [--jobs nf4,gptq,gptq-ct,awq-ct]
"""
import json
import os
import random
import sys
import time

import _gpu_seeds_table as seeds

# meta-llama/Llama-2-7b-hf config.json
LLAMA_2_7B = {**seeds.LLAMA_2_13B, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32}

# Each job's config, format, plan and library recipe as the worker sends them to the runner (written from
# native/model by _gpu-quantize-7b-jobs.mjs: this machine has no Node).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_gpu_quantize_7b_jobs.json")) as _f:
    JOB_FILES = json.load(_f)
JOBS = list(JOB_FILES)
DEFAULT_JOBS = ["nf4", "gptq"]


def folder_summary(folder):
    files = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    summary = {"files": files, "bytes": sum(os.path.getsize(os.path.join(folder, f)) for f in files if os.path.isfile(os.path.join(folder, f)))}
    if "config.json" in files:
        with open(os.path.join(folder, "config.json")) as f:
            summary["quantization_config"] = json.load(f).get("quantization_config")
    return summary


def main():
    work, out = sys.argv[1], sys.argv[2]
    budget = float(sys.argv[sys.argv.index("--budget") + 1]) if "--budget" in sys.argv else 480
    deadline = time.monotonic() + budget
    chosen = sys.argv[sys.argv.index("--jobs") + 1].split(",") if "--jobs" in sys.argv else DEFAULT_JOBS
    if set(chosen) - set(JOBS):
        sys.exit(f"unknown jobs {sorted(set(chosen) - set(JOBS))}; choose from {JOBS}")
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
    for name in chosen:
        # bitsandbytes quantizes while loading: no calibration windows
        job = {**JOB_FILES[name], "calibration": [] if JOB_FILES[name]["plan"]["method"] == "nf4" else calibration}
        target = os.path.join(work, f"{name}-7b")
        os.makedirs(target)
        left = deadline - time.monotonic()
        if left < 30:
            seeds.log("no time left for", name)
            continue
        started = time.monotonic()
        code = seeds.run_runner("quantstudio_quantize.py", {**job, "source": fp16, "out": target}, os.path.join(out, f"quantize7b-{name}.jsonl"), left)
        summary[name] = {"exit": code, "wall_seconds": time.monotonic() - started, **folder_summary(target)}
        # After each job, so a run cut short keeps what it measured.
        suffix = "" if chosen == DEFAULT_JOBS else "-" + "-".join(chosen)
        with open(os.path.join(out, f"quantize7b-summary{suffix}.json"), "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
