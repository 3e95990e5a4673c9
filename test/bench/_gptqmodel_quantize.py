"""Times GPTQModel 7.7's GPTQ quantization on CPU for test/bench/gptq-gptqmodel.mjs (run in the reference venv).

stdin: {"model", "warmup_model", "threads", "bits", "group_size", "windows": [[ids]...], "warmup_windows": [[ids]...]}
stdout (last line): {"load_seconds", "quantize_seconds", "quantize_cpu_seconds", "warmup_seconds", "torch_threads"}

Only model.quantize() is timed. A first quantize of the small warm-up model in the same process pays every one-time
cost (GPTQModel's CPU extension build or load, torch's lazy kernel initialisation) before the timed run, and the
model load is timed apart from it.
"""
import json
import os
import sys
import time


def main():
    request = json.load(sys.stdin)
    threads = int(request["threads"])
    os.environ["OMP_NUM_THREADS"] = str(threads)
    # GPTQModel 7.7's CPU worker pool (gptqmodel/__init__.py): at least its model loader's 2 workers.
    os.environ["GPTQMODEL_CPU_WORKERS"] = str(max(2, threads))
    import torch

    torch.set_num_threads(threads)
    from gptqmodel import GPTQModel, QuantizeConfig

    def config():
        # damp_percent as transformers' GPTQConfig default (0.1), which the engine's job uses; GPTQModel's own is 0.05.
        return QuantizeConfig(bits=request["bits"], group_size=request["group_size"], sym=True, desc_act=False,
                              damp_percent=0.1)

    def windows(key):
        return [{"input_ids": w, "attention_mask": [1] * len(w)} for w in request[key]]

    started = time.perf_counter()
    warm = GPTQModel.load(request["warmup_model"], config(), device="cpu")
    warm.quantize(windows("warmup_windows"), batch_size=1)
    del warm
    warmup_seconds = time.perf_counter() - started

    started = time.perf_counter()
    model = GPTQModel.load(request["model"], config(), device="cpu")
    load_seconds = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    model.quantize(windows("windows"), batch_size=1)
    quantize_seconds, quantize_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"load_seconds": load_seconds, "quantize_seconds": quantize_seconds,
                      "quantize_cpu_seconds": quantize_cpu_seconds,
                      "warmup_seconds": warmup_seconds, "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
