"""QuantStudio's runner for generate jobs on the `python` backend: the checkpoint folder opened as
quantstudio_models.py says (transformers, GPTQModel's loader for GPTQ and AWQ, CUDA or the CPU), then the engine's
generation loop on the prompt ids the worker tokenized: the prefill yields the first token; each token is sampled
(greedy at temperature 0, else softmax of logits / temperature after top-k and top-p, from a torch generator seeded
with the job's seed), reported, and fed back with the KV cache until a stop id, the token limit or the model's
positions. The worker decodes the ids into the streamed text with the model's tokenizer, as for the engine.

Protocol (quantstudio_common): the job is one JSON line on stdin
  {"folder", "prompt": [ids], "maxTokens", "temperature", "topK", "topP", "seed", "stopIds": [ids], "kernel"?}
and reports on stdout:
  {"type": "progress", "phase": "load" | "generate", "current": i, "total": n, "message": ...}
  {"type": "token", "id": n}
  {"type": "result", "device": ..., "gpus": [...], "libraries": {...}, "seconds": s, "peakRssBytes": n,
   "cudaMaxAllocatedBytes"?: n, "report": {"loadSeconds", "kernel", "promptTokens", "tokens", "stopReason",
   "prefillSeconds", "decodeSeconds"}}
  {"type": "error", "code": ..., "message": ...}
The runner reads the folder and writes nothing.
"""
import sys
import time

from quantstudio_common import JobError, check_libraries, device_of, emit, emit_result, main, with_library_errors
from quantstudio_models import check_model_libraries, kernel_of, load_model, quant_method


def progress(phase, current, total, message=None):
    emit({"type": "progress", "phase": phase, "current": current, "total": total, **({} if message is None else {"message": message})})


class Sampler:
    """The engine's sampling rule: greedy at temperature 0; else top-k, then top-p (the smallest set of most likely
    tokens whose probability reaches p), then a draw from the softmax of logits / temperature."""

    def __init__(self, torch, job):
        self.torch = torch
        self.temperature = float(job.get("temperature") or 0)
        self.top_k = int(job.get("topK") or 0)
        self.top_p = float(job.get("topP") if job.get("topP") is not None else 1)
        self.generator = torch.Generator().manual_seed(int(job.get("seed") or 0))

    def __call__(self, logits):
        torch = self.torch
        logits = logits.float().cpu()
        if self.temperature <= 0:
            return int(torch.argmax(logits))
        logits = logits / self.temperature
        if 0 < self.top_k < logits.numel():
            threshold = torch.topk(logits, self.top_k).values[-1]
            logits = torch.where(logits < threshold, torch.full_like(logits, float("-inf")), logits)
        if self.top_p < 1:
            ordered, order = torch.sort(logits, descending=True)
            cumulative = torch.cumsum(torch.softmax(ordered, -1), -1)
            drop = cumulative - torch.softmax(ordered, -1) >= self.top_p  # keep the token that reaches p
            logits[order[drop]] = float("-inf")
        return int(torch.multinomial(torch.softmax(logits, -1), 1, generator=self.generator))


def generate(torch, device, job, method):
    progress("load", 0, 1, job["folder"])
    started = time.perf_counter()
    model, input_device = load_model(torch, device, job["folder"], method, job.get("kernel"))
    load_seconds = time.perf_counter() - started
    kernel = kernel_of(model)
    progress("load", 1, 1, f"{load_seconds:.3f} s, {kernel}")

    prompt, limit = job["prompt"], job["maxTokens"]
    positions = getattr(model.config, "max_position_embeddings", None)
    if positions and len(prompt) > positions:
        raise JobError("BAD_CONFIG", f"the prompt has {len(prompt)} tokens, the model runs at most {positions} (its max_position_embeddings)")
    stop_ids, sample = set(job.get("stopIds") or []), Sampler(torch, job)
    tokens, reason = [], "maxTokens"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    progress("generate", 0, limit)
    started = time.perf_counter()
    out = model(input_ids=torch.tensor([prompt], dtype=torch.long, device=input_device), use_cache=True, logits_to_keep=1)
    sync()
    prefill_seconds = time.perf_counter() - started
    started = time.perf_counter()
    while limit > 0:
        token = sample(out.logits[0, -1])
        tokens.append(token)
        emit({"type": "token", "id": token})
        if token in stop_ids:
            reason = "eos"
            break
        if len(tokens) >= limit:
            break
        if positions and len(prompt) + len(tokens) >= positions:
            reason = "contextFull"
            break
        nxt = torch.tensor([[token]], dtype=torch.long, device=input_device)
        out = model(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)
    sync()
    decode_seconds = time.perf_counter() - started
    progress("generate", len(tokens), limit, f"stopped: {reason}")
    return {
        "loadSeconds": load_seconds,
        "kernel": kernel,
        "promptTokens": len(prompt),
        "tokens": tokens,
        "stopReason": reason,
        "prefillSeconds": prefill_seconds,
        "decodeSeconds": decode_seconds,
    }


def run(job):
    libraries = check_libraries("generate", ["torch", "transformers"])
    import torch

    device = device_of(torch)
    method = quant_method(job["folder"])
    libraries.update(check_model_libraries("generate", method, device))
    started = time.monotonic()

    def work():
        with torch.inference_mode():
            return generate(torch, device, job, method)

    report = with_library_errors(torch, device, work)
    emit_result(torch, device, libraries, started, report)


if __name__ == "__main__":
    sys.exit(main(run))
