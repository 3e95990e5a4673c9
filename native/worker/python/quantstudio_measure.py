"""QuantStudio's runner for the measurements of a benchmark variant on the `python` backend: the checkpoint folder
opened as quantstudio_models.py says (transformers, GPTQModel's loader for GPTQ and AWQ, CUDA or the CPU). The same
figures as the engine's measuring child, from the same token ids:

- load: `from_pretrained` until the first logits of a one-token forward pass;
- per batch size: a forward pass over `promptLength` tokens per sequence, and per new-token count a greedy
  generation whose prefill yields the first token and whose timed decode steps (the KV cache reused) the rest;
  each one warm-up run, then `repeat` timed runs; the peak memory of each phase (on CUDA torch's peak allocation
  and the allocator's peak reservation, summed over the GPUs used; on the CPU the process's resident peak);
- perplexity on the engine's protocol: consecutive windows of `seq` inputs, window i predicting
  ids[i*seq+1 .. i*seq+seq], the last partial window too, NLL summed in float64.

Protocol (quantstudio_common): the job is the measure request as one JSON line on stdin; reports on stdout:
  {"type": "progress", "phase": ..., "current": i, "total": n, "message": ...}
  {"type": "result", "device": ..., "gpus": [...], "libraries": {...}, "seconds": s, "peakRssBytes": n,
   "report": {"loadSeconds", "kernel", "phases": [{..., "runs": [seconds...]}], "perplexity"}}
  {"type": "error", "code": ..., "message": ...}
The runner reads the folder and writes nothing.
"""
import math
import sys
import time

from quantstudio_common import check_libraries, device_of, emit, emit_result, main, peak_memory, with_library_errors
from quantstudio_models import check_model_libraries, kernel_of, load_model, quant_method


def progress(phase, current, total, message=None):
    emit({"type": "progress", "phase": phase, "current": current, "total": total, **({} if message is None else {"message": message})})


class PhaseMemory:
    """The peak memory of one phase: torch's CUDA statistics reset, or Linux's resident high-water mark (writing
    "5" to /proc/self/clear_refs resets VmHWM); elsewhere the process's peak so far."""

    def __init__(self, torch, device):
        self.torch, self.device = torch, device

    def reset(self):
        if self.device == "cuda":
            for i in range(self.torch.cuda.device_count()):
                self.torch.cuda.reset_peak_memory_stats(i)
            return
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass

    def read(self):
        if self.device == "cuda":
            count = self.torch.cuda.device_count()
            return {
                "peakMemoryBytes": sum(self.torch.cuda.max_memory_allocated(i) for i in range(count)),
                "reservedMemoryBytes": sum(self.torch.cuda.max_memory_reserved(i) for i in range(count)),
            }
        try:
            with open("/proc/self/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return {"peakMemoryBytes": int(line.split()[1]) * 1024}
        except OSError:
            pass
        return {"peakMemoryBytes": peak_memory(self.torch, self.device)["peakRssBytes"]}


class Measurer:
    def __init__(self, torch, device, request, method):
        self.torch, self.device, self.request, self.method = torch, device, request, method
        self.memory = PhaseMemory(torch, device)
        self.label = request["label"]

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def ids(self, batch, length):
        """`batch` sequences of `length` ids, sequence b from pool[b·length] (the engine's rule)."""
        pool = self.request["pool"]
        rows = [pool[b * length : (b + 1) * length] for b in range(batch)]
        return self.torch.tensor(rows, dtype=self.torch.long, device=self.input_device)

    def load(self):
        folder = self.request["folder"]
        progress(f"load {self.label}", 0, 1, folder)
        started = time.perf_counter()
        self.model, self.input_device = load_model(self.torch, self.device, folder, self.method, self.request.get("kernel"))
        with self.torch.inference_mode():
            self.model(input_ids=self.ids(1, 1))
        self.sync()
        self.load_seconds = time.perf_counter() - started
        self.kernel = kernel_of(self.model)
        progress(f"load {self.label}", 1, 1, f"{self.load_seconds:.3f} s, {self.kernel}")

    def timed(self, run):
        """One warm-up run, then `repeat` timed runs (seconds each)."""
        run()
        return [run() for _ in range(self.request["repeat"])]

    def forward(self, ids):
        def run():
            self.sync()
            started = time.perf_counter()
            self.model(input_ids=ids, use_cache=False)
            self.sync()
            return time.perf_counter() - started

        return run

    def decode(self, prompts, new_tokens):
        """Greedy: the prefill yields the first new token, the timed decode steps (KV cache reused) the other n − 1."""
        torch = self.torch

        def run():
            out = self.model(input_ids=prompts, use_cache=True, logits_to_keep=1)
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            cache = out.past_key_values
            self.sync()
            started = time.perf_counter()
            for _ in range(new_tokens - 1):
                out = self.model(input_ids=token, past_key_values=cache, use_cache=True)
                cache = out.past_key_values
                token = out.logits[:, -1].argmax(-1, keepdim=True)
            self.sync()
            seconds = time.perf_counter() - started
            del out, cache
            if self.device == "cuda":
                torch.cuda.empty_cache()  # the next batch size's peak is its own
            return seconds

        return run

    def phases(self):
        request = self.request
        prompt_tokens = request["generate"]["promptTokens"]
        new_tokens = request["generate"]["newTokens"]
        steps = len(request["batchSizes"]) * (1 + len(new_tokens))
        phases = []
        for batch in request["batchSizes"]:
            name = f"measure {self.label} bs{batch}"
            length = request["promptLength"]
            progress(name, len(phases), steps, f"forward {batch} × {length} tokens")
            self.memory.reset()
            runs = self.timed(self.forward(self.ids(batch, length)))
            phases.append(dict(batch=batch, phase="forward", promptTokens=length, newTokens=0, runs=runs, timedTokens=length, **self.memory.read()))
            prompts = self.ids(batch, prompt_tokens)
            for n in new_tokens:
                progress(name, len(phases), steps, f"generate {batch} × ({prompt_tokens} + {n}) tokens")
                self.memory.reset()
                runs = self.timed(self.decode(prompts, n))
                phases.append(
                    dict(batch=batch, phase="generate", promptTokens=prompt_tokens, newTokens=n, runs=runs, timedTokens=n - 1, **self.memory.read())
                )
        progress(f"measure {self.label}", steps, steps)
        return phases

    def perplexity(self):
        evaluate = self.request.get("evaluate")
        if not evaluate:
            return None
        torch = self.torch
        ids = self.request["pool"][: evaluate["maxTokens"]]
        seq = evaluate["seq"]
        starts = list(range(0, len(ids) - 1, seq))
        nll, predicted = 0.0, 0
        for done, start in enumerate(starts):
            end = min(start + seq, len(ids) - 1)
            inputs = torch.tensor([ids[start:end]], dtype=torch.long, device=self.input_device)
            targets = torch.tensor(ids[start + 1 : end + 1], dtype=torch.long)
            with torch.inference_mode():
                logits = self.model(input_ids=inputs, use_cache=False).logits[0].float().cpu()
            nll += float(torch.nn.functional.cross_entropy(logits.double(), targets, reduction="sum"))
            predicted += end - start
            progress(f"perplexity {self.label}", done + 1, len(starts))
        return math.exp(nll / predicted)


def run(request):
    libraries = check_libraries("benchmark", ["torch", "transformers"])
    import torch

    device = device_of(torch)
    method = quant_method(request["folder"])
    libraries.update(check_model_libraries("benchmark", method, device))
    measurer = Measurer(torch, device, request, method)
    started = time.monotonic()

    def measure():
        with torch.inference_mode():
            measurer.load()
            phases = measurer.phases()
            perplexity = measurer.perplexity()
        return {"loadSeconds": measurer.load_seconds, "kernel": measurer.kernel, "phases": phases, "perplexity": perplexity}

    report = with_library_errors(torch, device, measure)
    emit_result(torch, device, libraries, started, report)


if __name__ == "__main__":
    sys.exit(main(run))
