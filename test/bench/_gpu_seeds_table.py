"""The seeds' GPU benchmark table on a CUDA machine: random-weight models of Llama-2-13B's exact shapes (fp16, GPTQ
4-bit g128 sym v1, bitsandbytes NF4) measured by the python backend's own runners, fed exactly what the worker
feeds them (native/worker/python: quantstudio_quantize.py writes the NF4 checkpoint, quantstudio_measure.py measures
each folder). Random weights are fine for speed and memory; perplexity is not measured.

    python3 test/bench/_gpu_seeds_table.py <work folder> <output folder> [--budget SECONDS]

Writes <output>/seeds-<variant>.jsonl (each runner's JSON lines) and <output>/seeds-summary.json;
test/bench/gpu-seeds-table.mjs turns them into a RunResult and the README's table.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNERS = os.path.join(ROOT, "native", "worker", "python")
TOKENIZER = os.path.join(ROOT, "examples", "tiny-llama")  # Llama-2's 32,000-token vocabulary

# meta-llama/Llama-2-13b-hf config.json
LLAMA_2_13B = dict(
    architectures=["LlamaForCausalLM"],
    model_type="llama",
    hidden_size=5120,
    intermediate_size=13824,
    num_hidden_layers=40,
    num_attention_heads=40,
    num_key_value_heads=40,
    vocab_size=32000,
    max_position_embeddings=4096,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    hidden_act="silu",
    tie_word_embeddings=False,
    bos_token_id=1,
    eos_token_id=2,
    torch_dtype="float16",
)
# The shape the model makers write (a caller may set another).
SHAPE = LLAMA_2_13B
GPTQ = dict(quant_method="gptq", bits=4, group_size=128, desc_act=False, sym=True, damp_percent=0.01, true_sequential=True, checkpoint_format="gptq")
# The seeds' request: batch 1 and 16, prompt 512.
REQUEST = dict(batchSizes=[1, 16], promptLength=512, generate=dict(promptTokens=512, newTokens=[129]), evaluate=None, repeat=3)


def log(*parts):
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, flush=True)


def copy_tokenizer(folder):
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        source = os.path.join(TOKENIZER, name)
        if os.path.exists(source):
            shutil.copy(source, folder)


def write_shards(folder, tensors_of_layer, head):
    """Safetensors shards, one per few layers, and the index transformers reads."""
    from safetensors.torch import save_file

    index = {}
    shard = 0

    def save(tensors):
        nonlocal shard
        name = f"model-{shard:05d}.safetensors"
        save_file({k: v.contiguous().cpu() for k, v in tensors.items()}, os.path.join(folder, name), metadata={"format": "pt"})
        index.update({k: name for k in tensors})
        shard += 1

    save(head)
    layers = SHAPE["num_hidden_layers"]
    for start in range(0, layers, 4):
        tensors = {}
        for i in range(start, min(layers, start + 4)):
            tensors.update(tensors_of_layer(i))
        save(tensors)
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": index}, f)


def linears():
    h, m = SHAPE["hidden_size"], SHAPE["intermediate_size"]
    return [("self_attn.q_proj", h, h), ("self_attn.k_proj", h, h), ("self_attn.v_proj", h, h), ("self_attn.o_proj", h, h),
            ("mlp.gate_proj", h, m), ("mlp.up_proj", h, m), ("mlp.down_proj", m, h)]


def head_tensors(torch):
    h, v = SHAPE["hidden_size"], SHAPE["vocab_size"]
    g = lambda *s: (torch.randn(*s, device="cuda", dtype=torch.float16) * 0.02)
    return {"model.embed_tokens.weight": g(v, h), "lm_head.weight": g(v, h), "model.norm.weight": torch.ones(h, device="cuda", dtype=torch.float16)}


def norms(torch, i):
    h = SHAPE["hidden_size"]
    one = torch.ones(h, device="cuda", dtype=torch.float16)
    return {f"model.layers.{i}.input_layernorm.weight": one, f"model.layers.{i}.post_attention_layernorm.weight": one.clone()}


def make_fp16(torch, folder):
    os.makedirs(folder)

    def layer(i):
        t = norms(torch, i)
        for name, k, n in linears():
            t[f"model.layers.{i}.{name}.weight"] = torch.randn(n, k, device="cuda", dtype=torch.float16) * (1 / k**0.5)
        return t

    write_shards(folder, layer, head_tensors(torch))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(SHAPE, f, indent=2)
    copy_tokenizer(folder)


def make_gptq(torch, folder):
    """GPTQ v1 (AutoGPTQ's layout): qweight [K/8, N] int32, qzeros [K/128, N/8] (sym: each code 7 = 8 − 1), fp16
    scales [K/128, N], g_idx [K]; random codes."""
    os.makedirs(folder)
    gs = GPTQ["group_size"]

    def layer(i):
        t = norms(torch, i)
        for name, k, n in linears():
            p = f"model.layers.{i}.{name}"
            t[f"{p}.qweight"] = torch.randint(-(2**31), 2**31 - 1, (k // 8, n), device="cuda", dtype=torch.int32)
            t[f"{p}.qzeros"] = torch.full((k // gs, n // 8), 0x77777777, device="cuda", dtype=torch.int32)
            t[f"{p}.scales"] = (torch.rand(k // gs, n, device="cuda", dtype=torch.float16) * 0.002 + 0.001)
            t[f"{p}.g_idx"] = torch.arange(k, device="cuda", dtype=torch.int32) // gs
        return t

    write_shards(folder, layer, head_tensors(torch))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({**SHAPE, "quantization_config": GPTQ}, f, indent=2)
    with open(os.path.join(folder, "quantize_config.json"), "w") as f:
        json.dump({k: v for k, v in GPTQ.items() if k != "quant_method"}, f, indent=2)
    copy_tokenizer(folder)


def run_runner(script, job, out_file, timeout):
    """One runner as the worker runs it: the job as one JSON line on stdin, its JSON lines kept."""
    started = time.monotonic()
    with open(out_file, "w") as out:
        # stdin stays open while the runner works: a runner exits when its job process (stdin) goes away.
        p = subprocess.Popen([sys.executable, os.path.join(RUNNERS, script)], stdin=subprocess.PIPE, stdout=out, text=True)
        p.stdin.write(json.dumps(job) + "\n")
        p.stdin.flush()
        try:
            code = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            code = "timeout"
        finally:
            p.stdin.close()
    log(f"{script} → {out_file}: exit {code} in {time.monotonic() - started:.0f} s")
    return code


def main():
    work, out = sys.argv[1], sys.argv[2]
    budget = float(sys.argv[sys.argv.index("--budget") + 1]) if "--budget" in sys.argv else 540
    deadline = time.monotonic() + budget
    os.makedirs(work, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    import torch

    random.seed(0)
    torch.manual_seed(0)
    pool = [random.randrange(3, LLAMA_2_13B["vocab_size"]) for _ in range(16 * 512)]
    summary = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "steps": []}
    fp16, gptq, nf4 = (os.path.join(work, n) for n in ("fp16", "gptq", "nf4"))

    def made(maker, folder):
        t = time.monotonic()
        maker(torch, folder)
        torch.cuda.empty_cache()
        summary["steps"].append({"made": os.path.basename(folder), "seconds": time.monotonic() - t})
        log("made", folder, f"{time.monotonic() - t:.0f} s")

    def measure(label, folder, cap, kernel=None):
        left = min(cap, deadline - time.monotonic())
        if left < 30:
            log("no time left for", label)
            return
        job = {**REQUEST, "label": label, "folder": folder, "pool": pool, **({"kernel": kernel} if kernel else {})}
        run_runner("quantstudio_measure.py", job, os.path.join(out, f"seeds-{label.split()[0]}.jsonl"), left)

    kernels = sys.argv[sys.argv.index("--gptq-kernels") + 1].split(",") if "--gptq-kernels" in sys.argv else ["auto"]
    gptq_only = "--gptq-only" in sys.argv
    if not gptq_only:
        made(make_fp16, fp16)
        measure("fp16", fp16, 240)
    # GPTQModel compiles its CUDA kernels on first use (Machete downloads CUTLASS): each capped.
    made(make_gptq, gptq)
    for kernel in kernels:
        measure(f"gptq-{kernel} 4-bit g128", gptq, 200, kernel)
    if not gptq_only:
        nf4_plan = {"method": "nf4", "doubleQuant": False, "computeDtype": "float16"}
        nf4_config = {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": "float16"}
        os.makedirs(nf4)
        job = {"plan": nf4_plan, "config": nf4_config, "source": fp16, "out": nf4, "calibration": []}
        run_runner("quantstudio_quantize.py", job, os.path.join(out, "seeds-quantize-nf4.jsonl"), max(30, deadline - time.monotonic() - 60))
        measure("bitsandbytes nf4", nf4, 300)
    with open(os.path.join(out, "seeds-summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
