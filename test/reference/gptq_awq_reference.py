"""Runs the upstream GPTQ (GPTQModel 7.7's GPTQ class) and AWQ search on real tiny-llama layers, so the
engine's results can be compared on identical inputs.

Input (JSON on stdin): {"model": dir, "text": file, "out": dir, "tokens": N, "layers": [names],
"gptq": [configs], "awq": {...}}. Calibration activations are the real inputs of each named linear, captured
with transformers from the first N tokens of the text. Writes raw little-endian arrays into "out" and
prints a JSON summary on stdout: per layer the files (weight, activations) and per config the upstream
codes/scales/zeros/g_idx files, the reconstruction errors ‖WXᵀ − ŴXᵀ‖² of upstream and of RTN, and timings.
A config with gptaqAlpha runs GPTQModel's GPTAQ on the inputs of a model whose layer 0 is RTN 3-bit ("drifted"),
with the full-precision model's as its native inputs; its errors are ‖XWᵀ − X̃Ŵᵀ‖².
"""
import json
import os
import sys
import time

import numpy as np
import torch

os.environ.setdefault("GPTQMODEL_CPU_WORKERS", "2")


def capture_inputs(model_dir, text_file, tokens, layer_names, quantize_layer0=False):
    """The inputs of each named linear; with quantize_layer0, those of a model whose decoder layer 0 linears are
    RTN 3-bit g128 (the drifted inputs a quantized model gives later layers, for GPTAQ)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    if quantize_layer0:
        for module in model.model.layers[0].modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.data.copy_(rtn_codes(module.weight.data.float(), 3, 128, True))
    with open(text_file, encoding="utf-8") as f:
        text = f.read()[: tokens * 20]
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids[:, :tokens]
    captured = {}
    hooks = []
    for name in layer_names:
        module = model.get_submodule(name)
        hooks.append(module.register_forward_hook(
            lambda m, inp, out, name=name: captured.__setitem__(name, inp[0].detach().reshape(-1, inp[0].shape[-1]).clone())))
    with torch.no_grad():
        # 256-token windows, as the calibration protocol cuts them.
        parts = {name: [] for name in layer_names}
        for start in range(0, ids.shape[1], 256):
            model(ids[:, start:start + 256])
            for name in layer_names:
                parts[name].append(captured[name])
    for h in hooks:
        h.remove()
    weights = {name: model.get_submodule(name).weight.detach().float().clone() for name in layer_names}
    return weights, {name: torch.cat(parts[name], 0) for name in layer_names}


def rtn_codes(w, bits, group_size, sym):
    """GPTQ's min/max grid applied without error feedback (upstream's Quantizer rule)."""
    maxq = 2 ** bits - 1
    rows, cols = w.shape
    gs = cols if group_size == -1 else group_size
    out = torch.empty_like(w)
    for c0 in range(0, cols, gs):
        x = w[:, c0:c0 + gs]
        zero_t = torch.zeros(rows)
        xmin = torch.minimum(x.min(1)[0], zero_t)
        xmax = torch.maximum(x.max(1)[0], zero_t)
        if sym:
            xmax = torch.maximum(xmin.abs(), xmax)
            xmin = torch.where(xmin < 0, -xmax, xmin)
        both = (xmin == 0) & (xmax == 0)
        xmin = torch.where(both, xmin - 1, xmin)
        xmax = torch.where(both, xmax + 1, xmax)
        scale = (xmax - xmin) / maxq
        zero = torch.full_like(scale, (maxq + 1) / 2) if sym else torch.round(-xmin / scale)
        q = torch.clamp(torch.round(x / scale[:, None]) + zero[:, None], 0, maxq)
        out[:, c0:c0 + gs] = scale[:, None] * (q - zero[:, None])
    return out


def output_error(w, w_hat, x, x_hat=None):
    """‖XWᵀ − X̂Ŵᵀ‖² (X̂ = X unless given: the quantized model's inputs)."""
    x_hat = x if x_hat is None else x_hat
    d = x.double() @ w.double().T - x_hat.double() @ w_hat.double().T
    return float((d * d).sum())


def run_gptq(w, x, cfg, fp_x=None):
    """GPTQModel 7.7's GPTQ, or its GPTAQ when cfg has gptaqAlpha (x: the quantized model's inputs, fp_x: the
    full-precision model's, which GPTAQ reads from the module's state as GPTQModel's native processor leaves them)."""
    from gptqmodel.quantization import QuantizeConfig
    from gptqmodel.quantization.gptaq import GPTAQ
    from gptqmodel.quantization.gptq import GPTQ

    rows, cols = w.shape
    linear = torch.nn.Linear(cols, rows, bias=False)
    linear.weight.data.copy_(w)
    gptaq = {"alpha": cfg["gptaqAlpha"]} if cfg.get("gptaqAlpha") else None
    qcfg = QuantizeConfig(bits=cfg["bits"], group_size=cfg["groupSize"], sym=cfg["sym"], desc_act=cfg["descAct"],
                          static_groups=cfg.get("staticGroups", False), damp_percent=cfg.get("dampPercent", 0.01),
                          act_group_aware=cfg.get("actGroupAware", False), mse=cfg.get("mse", 0.0), gptaq=gptaq)
    if gptaq:
        linear.state = {"native_inp": [fp_x[b:b + 256].unsqueeze(0) for b in range(0, fp_x.shape[0], 256)]}
        gptq = GPTAQ(linear, qcfg)
    else:
        gptq = GPTQ(linear, qcfg)
    gptq.quantizer.configure(perchannel=True)
    start = time.perf_counter()
    for b in range(0, x.shape[0], 256):  # one batch per calibration window, like the layer-by-layer loop
        gptq.add_batch(x[b:b + 256].unsqueeze(0), None)
    q_weight, scale, zero, g_idx, _, avg_loss = gptq.quantize()[:6]
    seconds = time.perf_counter() - start
    q_weight = q_weight.float()
    g = g_idx.long()
    codes = torch.round(q_weight / scale[:, g] + zero[:, g]).to(torch.uint8)
    return q_weight, codes, scale.float(), zero.round().to(torch.int32), g_idx.to(torch.int32), seconds, float(avg_loss)


def awq_search(weights, x, cfg):
    """AutoAWQ's _search_best_scale + _compute_best_scale for linears sharing x, inspected module =
    the linears themselves, using GPTQModel's AWQ pseudo-quantizer (the AutoAWQ rule)."""
    group_size = cfg["groupSize"]
    n_grid = cfg.get("scaleGrid", 20)
    duo = cfg.get("duoScaling", True)
    bits = cfg["bits"]

    def pseudo_quantize(w):
        shape = w.shape
        w = w.reshape(-1, group_size)
        max_val = w.amax(dim=1, keepdim=True)
        min_val = w.amin(dim=1, keepdim=True)
        max_int = 2 ** bits - 1
        scales = (max_val - min_val).clamp(min=1e-5) / max_int
        zeros = (-torch.round(min_val / scales)).clamp_(0, max_int)
        w = (torch.clamp(torch.round(w / scales) + zeros, 0, max_int) - zeros) * scales
        return w.reshape(shape)

    weight = torch.cat(weights, dim=0)
    org_shape = weight.shape
    wg = weight.view(-1, group_size)
    w_scale = wg.abs() / (wg.abs().amax(dim=1, keepdim=True) + 1e-6)
    w_mean = w_scale.view(org_shape).mean(0)
    x_mean = x.abs().view(-1, x.shape[-1]).float().sum(0) / x.shape[0]
    fp_out = torch.cat([x @ w.T for w in weights], dim=1)
    history = []
    best = (float("inf"), -1, None)
    start = time.perf_counter()
    for step in range(n_grid):
        ratio = step / n_grid
        if duo:
            s = (x_mean.pow(ratio) / (w_mean.pow(1 - ratio) + 1e-4)).clamp(min=1e-4)
        else:
            s = x_mean.pow(ratio).clamp(min=1e-4).view(-1)
        s = s / (s.max() * s.min()).sqrt()
        s[torch.isinf(s)] = 1
        s[torch.isnan(s)] = 1
        out = torch.cat([x @ (pseudo_quantize(w * s.view(1, -1)) / s.view(1, -1)).T for w in weights], dim=1)
        loss = float((fp_out - out).float().pow(2).sum() / fp_out.numel())
        history.append(loss)
        if loss < best[0]:
            best = (loss, ratio, s.clone())
    return {"loss": best[0], "ratio": best[1], "scales": best[2], "history": history,
            "seconds": time.perf_counter() - start}


def awq_clip(w, x, group_size, bits, n_grid=20, max_shrink=0.5, n_sample_token=512):
    """AutoAWQ's _compute_best_clip: per [row, group] the max |w| (shrunk by up to max_shrink) that
    minimises the group's output error on every step-th token; then the clipped weight's codes."""
    rows, cols = w.shape
    feat = x.view(-1, cols).reshape(1, x.shape[0], -1, group_size)
    feat = feat[:, ::max(1, feat.shape[1] // n_sample_token)]
    wg = w.reshape(rows, 1, -1, group_size)
    org_max = wg.abs().amax(dim=-1, keepdim=True)
    best_max = org_max.clone()
    min_errs = torch.ones_like(org_max) * 1e9
    org_out = (feat * wg).sum(dim=-1)
    max_int = 2 ** bits - 1

    def pseudo_quantize(v):
        v = v.reshape(-1, group_size)
        hi = v.amax(dim=1, keepdim=True)
        lo = v.amin(dim=1, keepdim=True)
        scales = (hi - lo).clamp(min=1e-5) / max_int
        zeros = (-torch.round(lo / scales)).clamp_(0, max_int)
        codes = torch.clamp(torch.round(v / scales) + zeros, 0, max_int)
        return ((codes - zeros) * scales).reshape(rows, 1, -1, group_size), codes.reshape(rows, cols)

    for i_s in range(int(max_shrink * n_grid)):
        max_val = org_max * (1 - i_s / n_grid)
        q_w, _ = pseudo_quantize(torch.clamp(wg, -max_val, max_val))
        err = ((feat * q_w).sum(dim=-1) - org_out).pow(2).mean(dim=1).view(min_errs.shape)
        better = err < min_errs
        min_errs[better] = err[better]
        best_max[better] = max_val[better]
    clipped = torch.clamp(wg, -best_max, best_max)
    _, codes = pseudo_quantize(clipped)
    return best_max.reshape(rows, -1), codes.to(torch.uint8)


def save(out_dir, name, tensor):
    path = os.path.join(out_dir, name)
    tensor.contiguous().numpy().tofile(path)
    return path


def main():
    # The libraries log banners to stdout: keep stdout for the one JSON answer.
    answer, sys.stdout = sys.stdout, sys.stderr
    request = json.load(sys.stdin)
    out_dir = request["out"]
    weights, inputs = capture_inputs(request["model"], request["text"], request["tokens"], request["layers"])
    gptaq = any(cfg.get("gptaqAlpha") for cfg in request.get("gptq", []))
    drifted = capture_inputs(request["model"], request["text"], request["tokens"], request["layers"], True)[1] \
        if gptaq else {}
    summary = {"layers": []}
    for li, name in enumerate(request["layers"]):
        w, x = weights[name], inputs[name]
        layer = {"name": name, "rows": w.shape[0], "cols": w.shape[1], "tokens": x.shape[0],
                 "weight": save(out_dir, f"{li}.weight.f32", w), "activations": save(out_dir, f"{li}.x.f32", x),
                 "gptq": []}
        if gptaq:
            layer["driftedActivations"] = save(out_dir, f"{li}.xq.f32", drifted[name])
        for ci, cfg in enumerate(request.get("gptq", [])):
            x_hat = drifted[name] if cfg.get("gptaqAlpha") else x
            q_weight, codes, scale, zero, g_idx, seconds, avg_loss = run_gptq(w, x_hat, cfg, fp_x=x)
            prefix = f"{li}.{ci}"
            layer["gptq"].append({
                "config": cfg, "seconds": seconds, "avgLoss": avg_loss,
                "codes": save(out_dir, f"{prefix}.codes.u8", codes),
                "scales": save(out_dir, f"{prefix}.scales.f32", scale.T),  # [groups × rows] like the engine
                "zeros": save(out_dir, f"{prefix}.zeros.i32", zero.T),
                "gIdx": save(out_dir, f"{prefix}.gidx.i32", g_idx),
                "upstreamError": output_error(w, q_weight, x, x_hat),
                "rtnError": output_error(w, rtn_codes(w, cfg["bits"], cfg["groupSize"], cfg["sym"]), x, x_hat),
            })
        if "awq" in request:
            result = awq_search([w], x, request["awq"])
            scales = result["scales"].view(1, -1)
            clip_max, clip_codes = awq_clip(w * scales, x / scales, request["awq"]["groupSize"], request["awq"]["bits"])
            layer["awq"] = {"config": request["awq"], "ratio": result["ratio"], "loss": result["loss"],
                            "history": result["history"], "seconds": result["seconds"],
                            "scales": save(out_dir, f"{li}.awq.scales.f32", result["scales"].float()),
                            "clipMax": save(out_dir, f"{li}.awq.clip.f32", clip_max.float()),
                            "codes": save(out_dir, f"{li}.awq.codes.u8", clip_codes)}
        summary["layers"].append(layer)
    json.dump(summary, answer)


if __name__ == "__main__":
    main()
