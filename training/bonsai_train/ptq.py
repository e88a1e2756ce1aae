"""Post-training ternarization (PTQ) of a float Qwen3 model.

Every projection becomes a TernaryLinear whose latent weight is the float weight, with
block scales set either to the absmean of the block (method "absmean", threshold 0.5:
t = round(clip(W/s, -1, 1))) or refined by a few alternating least-squares steps
(method "lsq": t from the current s, then s = sum|W||t| / sum|t|). No training."""
import copy

import torch

from .model import Qwen3
from .tws import TernaryLinear, ternarize, ternary_factory, ternary_layers


@torch.no_grad()
def ptq(fp_model, block=256, method="absmean", iters=5):
    tm = Qwen3(copy.deepcopy(fp_model.c), ternary_factory(block)).to(next(fp_model.parameters()).device)
    tm.load_state_dict(fp_model.state_dict(), strict=False)
    for m in ternary_layers(tm):
        m.init_scales()
        if method == "lsq":
            for _ in range(iters):
                o, i = m.weight.shape
                s = m.log_scale.exp()
                t = ternarize(m.weight, s, m.delta()).view(o, -1, m.block).abs()
                w = m.weight.view(o, -1, m.block).abs()
                nz = t.sum(-1)
                s_new = torch.where(nz > 0, (w * t).sum(-1) / nz.clamp_min(1), s)
                m.log_scale.copy_(s_new.clamp_min(1e-8).log())
        elif method != "absmean":
            raise ValueError("unknown PTQ method " + method)
    return tm


__all__ = ["ptq", "TernaryLinear"]
