"""Where a Mixture-of-Experts model's routing is too close to call between upstream and the runtime.

GPTQModel 7.7 and transformers 5.23 compute a GPTQ or AWQ layer from its weight dequantized in the scales' fp16; the
runtime keeps the exact fp32 products. Its router logits then differ from upstream's by at most 1.5e-3 (measured on
the Mixtral, Qwen2-MoE and Qwen3-MoE fixtures under GPTQ g32 act-order on every row routed alike, router inputs
within 1.1e-3 relative; the runtime matches GPTQModel's model with fp32 scales to 1e-6 of its logits). Choosing other
experts needs some pair across the top-k boundary to swap, which needs their gap to close by at most twice that, and
no pair's gap is smaller than the k-th minus the (k+1)-th logit. So a row whose every router has that gap at or above
ROUTER_TIE_BOUND (1e-2, about three times the 3e-3 a swap needs) routes as upstream does; from the first row below it,
every later row of the prompt may differ too (attention reads it).
"""
import torch

ROUTER_TIE_BOUND = 1e-2


class RouterMargins:
    """Hooks every router (a `.gate` Linear with one row per expert) and keeps the inputs of the last forward."""

    def __init__(self, model, config):
        self.top_k = config["num_experts_per_tok"]
        experts = config.get("num_local_experts") or config["num_experts"]
        self.gates = [m for n, m in model.named_modules() if n.endswith(".gate")
                      and getattr(m, "weight", None) is not None and m.weight.shape[0] == experts]
        if not self.gates:
            raise RuntimeError(f"no router with {experts} experts found in {type(model).__name__}")
        self.inputs = {}
        for gate in self.gates:
            gate.register_forward_hook(self._keep)

    def _keep(self, module, args, _output):
        self.inputs[module] = args[0].detach().reshape(-1, args[0].shape[-1]).float()

    def first_tie(self):
        """The first row of the last forward where a router's k-th and (k+1)-th logits are closer than the bound,
        or None; the logits in fp32 from the router's input and weight (routers have no bias)."""
        first = None
        for gate in self.gates:
            logits = self.inputs[gate] @ gate.weight.float().t()
            top = logits.topk(self.top_k + 1, dim=-1).values
            close = ((top[:, -2] - top[:, -1]) < ROUTER_TIE_BOUND).nonzero()
            if len(close) > 0:
                first = int(close[0]) if first is None else min(first, int(close[0]))
        self.inputs.clear()
        return first
