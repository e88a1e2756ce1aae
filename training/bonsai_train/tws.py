"""Ternary Weight Splitting (TWS) layers.

Each linear keeps a latent full-precision weight W (out, in). The forward pass uses
W_hat = s_b * t, where t in {-1, 0, +1} and s_b is a learned scale per block of `block`
contiguous weights along a row (256 = TQ2_0 layout, 64 = Q2_0):
    w~ = W / s_b,   t = sign(w~) * [|w~| > delta]
with delta a learned per-tensor threshold (sigmoid-parametrised, starts at 0.5, i.e.
round-to-nearest) and s_b = exp(log_s_b) (log-parametrised so Adam steps are relative).
Gradients (straight-through): dL/dW = dL/dW_hat inside |w~| < clip (identity STE, zero
outside so latent weights cannot drift without bound); dL/ds is the LSQ estimator
(t - clip(w~)); dL/ddelta uses a sigmoid surrogate of the step function.
The scale is rounded to float16 in the forward pass (with an STE) so the exported
TQ2_0/Q2_0 file holds exactly the weights that were trained and evaluated.

Re-projection (`reproject`), run on a schedule by the trainer: clamp latent weights to
the clip range and re-fit every block scale to the least-squares optimum for its
current ternary pattern: s = sum(|W| * |t|) / sum(|t|).
"""
import math

import torch
import torch.nn as nn


def ternarize(w, scale, delta):
    """Hard ternarization: returns codes t (same shape as w, float in {-1,0,1})."""
    out_f, in_f = w.shape
    blk = in_f // scale.shape[1]
    wn = w.view(out_f, -1, blk) / scale[:, :, None]
    t = torch.sign(wn) * (wn.abs() > delta).to(wn.dtype)
    return t.view(out_f, in_f)


class TernaryLinear(nn.Module):
    """Drop-in replacement of nn.Linear(bias=False) with the TWS forward."""

    def __init__(self, n_in, n_out, block=256, clip=1.5, tau=0.1):
        super().__init__()
        if n_in % block:
            raise ValueError("in_features %d not a multiple of block %d" % (n_in, block))
        self.block, self.clip, self.tau = block, clip, tau
        self.weight = nn.Parameter(torch.empty(n_out, n_in))
        self.log_scale = nn.Parameter(torch.zeros(n_out, n_in // block))
        self.delta_logit = nn.Parameter(torch.zeros(()))  # sigmoid(0) = 0.5
        nn.init.normal_(self.weight, 0.0, 0.02)
        self.init_scales()

    @torch.no_grad()
    def init_scales(self):
        """Absmean scale per block (the BitNet b1.58 choice), delta = 0.5."""
        w = self.weight.view(self.weight.shape[0], -1, self.block)
        self.log_scale.copy_(w.abs().mean(-1).clamp_min(1e-8).log())
        self.delta_logit.zero_()

    def scale(self):
        s = self.log_scale.exp()
        return s + (s.half().float() - s).detach()  # f16-exact value, identity gradient

    def delta(self):
        return torch.sigmoid(self.delta_logit)

    def quantized_weight(self):
        """W_hat with the straight-through gradients described in the module doc."""
        o, i = self.weight.shape
        s = self.scale()[:, :, None]
        d = self.delta()
        wn = self.weight.view(o, -1, self.block) / s
        t_hard = (torch.sign(wn) * (wn.abs() > d).to(wn.dtype)).detach()
        q = wn.clamp(-self.clip, self.clip)
        wa = wn.detach()
        t_soft = torch.sign(wa) * torch.sigmoid((wa.abs() - d) / self.tau)
        q = q + (t_hard - q).detach() + (t_soft - t_soft.detach())
        return (q * s).view(o, i)

    def forward(self, x):
        return x @ self.quantized_weight().to(x.dtype).t()

    @torch.no_grad()
    def codes_and_scales(self):
        """(codes int8 (out,in) in {-1,0,1}, scales float32 (out, in/block) f16-exact)."""
        s = self.log_scale.exp().half().float()
        t = ternarize(self.weight.float(), s, self.delta().float())
        return t.to(torch.int8), s

    @torch.no_grad()
    def reproject(self, refit_scale=True):
        o, i = self.weight.shape
        s = self.log_scale.exp()
        w = self.weight.view(o, -1, self.block)
        w.copy_(torch.maximum(torch.minimum(w, s[:, :, None] * self.clip), -s[:, :, None] * self.clip))
        if refit_scale:
            t = ternarize(self.weight, s, self.delta()).view(o, -1, self.block).abs()
            nz = t.sum(-1)
            s_opt = (w.abs() * t).sum(-1) / nz.clamp_min(1)
            s_new = torch.where(nz > 0, s_opt, s)
            self.log_scale.copy_(s_new.clamp_min(1e-8).log())


def ternary_factory(block=256):
    """linear_factory for model.Qwen3 that builds TernaryLinear layers."""
    return lambda n_in, n_out: TernaryLinear(n_in, n_out, block=block)


def ternary_layers(model):
    return [m for m in model.modules() if isinstance(m, TernaryLinear)]


def reproject_all(model, refit_scale=True):
    for m in ternary_layers(model):
        m.reproject(refit_scale)


def reprojection_due(step, every=200, until=None):
    """Schedule: every `every` steps, optionally only before step `until`."""
    return step > 0 and step % every == 0 and (until is None or step < until)


def from_float(fp_model, tern_model):
    """Initialise a ternary model from a float one (latent weights = float weights)."""
    sd = fp_model.state_dict()
    missing = tern_model.load_state_dict(sd, strict=False)
    for m in ternary_layers(tern_model):
        m.init_scales()
    return missing


def bits_per_weight(block):
    return (2 * block + 16) / block  # 2-bit codes + one f16 scale per block


def log_scale_like(x):
    return math.log(max(float(x), 1e-8))
