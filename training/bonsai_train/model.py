"""qwen3-architecture decoder in PyTorch, matching the engine's graph (formats.md §3.3):
token embedding -> per layer [RMSNorm -> Q/K/V -> per-head QK RMSNorm -> NEOX RoPE ->
causal GQA attention -> Wo, residual; RMSNorm -> SwiGLU FFN, residual] -> RMSNorm -> head
(tied to the embedding or separate).

Every projection is created through `linear_factory(in, out)`, so tws.py can swap in
ternary layers without touching the graph. Works on torch 1.13 (no SDPA / compile:
detected and replaced by a plain softmax attention)."""
import dataclasses
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


@dataclasses.dataclass
class Config:
    """Hyper-parameters; names mirror the qwen3.* GGUF keys."""
    vocab_size: int = 16384
    n_embd: int = 512
    n_layer: int = 8
    n_head: int = 8
    n_head_kv: int = 4
    head_dim: int = 64
    n_ff: int = 1536
    context_length: int = 512
    rope_base: float = 10000.0
    eps: float = 1e-6
    tied: bool = True

    def to_dict(self):
        return dataclasses.asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.float()).to(x.dtype)


def rope_neox(x, pos, base):
    """x (B, H, T, D); rotate x[i] with x[i+D/2] by angle pos*base^(-2i/D)."""
    d = x.shape[-1]
    half = d // 2
    inv = base ** (-torch.arange(0, half, device=x.device, dtype=torch.float32) * 2.0 / d)
    ang = pos.float()[:, None] * inv[None, :]              # (T, half)
    cos, sin = ang.cos()[None, None], ang.sin()[None, None]
    xf = x.float()
    x1, x2 = xf[..., :half], xf[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1).to(x.dtype)


def plain_linear(n_in, n_out):
    return nn.Linear(n_in, n_out, bias=False)


class Block(nn.Module):
    def __init__(self, c, lin):
        super().__init__()
        self.c = c
        self.attn_norm = RMSNorm(c.n_embd, c.eps)
        self.attn_q = lin(c.n_embd, c.n_head * c.head_dim)
        self.attn_k = lin(c.n_embd, c.n_head_kv * c.head_dim)
        self.attn_v = lin(c.n_embd, c.n_head_kv * c.head_dim)
        self.attn_output = lin(c.n_head * c.head_dim, c.n_embd)
        self.attn_q_norm = RMSNorm(c.head_dim, c.eps)
        self.attn_k_norm = RMSNorm(c.head_dim, c.eps)
        self.ffn_norm = RMSNorm(c.n_embd, c.eps)
        self.ffn_gate = lin(c.n_embd, c.n_ff)
        self.ffn_up = lin(c.n_embd, c.n_ff)
        self.ffn_down = lin(c.n_ff, c.n_embd)

    def forward(self, h, pos):
        c = self.c
        B, T, _ = h.shape
        a = self.attn_norm(h)
        q = self.attn_q(a).view(B, T, c.n_head, c.head_dim)
        k = self.attn_k(a).view(B, T, c.n_head_kv, c.head_dim)
        v = self.attn_v(a).view(B, T, c.n_head_kv, c.head_dim)
        q = rope_neox(self.attn_q_norm(q).transpose(1, 2), pos, c.rope_base)
        k = rope_neox(self.attn_k_norm(k).transpose(1, 2), pos, c.rope_base)
        v = v.transpose(1, 2)
        rep = c.n_head // c.n_head_kv
        if rep > 1:  # head h uses kv head h // rep
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if HAS_SDPA:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(c.head_dim)
            mask = torch.ones(T, T, dtype=torch.bool, device=h.device).triu(1)
            s = s.masked_fill(mask, float("-inf"))
            o = (s.softmax(-1) @ v.float()).to(q.dtype)
        o = o.transpose(1, 2).reshape(B, T, c.n_head * c.head_dim)
        h = h + self.attn_output(o)
        f = self.ffn_norm(h)
        return h + self.ffn_down(F.silu(self.ffn_gate(f)) * self.ffn_up(f))


class Qwen3(nn.Module):
    def __init__(self, c, linear_factory=plain_linear):
        super().__init__()
        self.c = c
        self.token_embd = nn.Embedding(c.vocab_size, c.n_embd)
        self.blocks = nn.ModuleList([Block(c, linear_factory) for _ in range(c.n_layer)])
        self.output_norm = RMSNorm(c.n_embd, c.eps)
        self.output = None if c.tied else nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.reset_parameters()

    def reset_parameters(self):
        std = 0.02
        for n, p in self.named_parameters():
            if p.dim() == 2:
                s = std / math.sqrt(2 * self.c.n_layer) if n.endswith(("attn_output.weight", "ffn_down.weight")) else std
                nn.init.normal_(p, 0.0, s)
        for m in self.modules():
            if hasattr(m, "init_scales"):
                m.init_scales()

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        pos = torch.arange(T, device=idx.device)
        h = self.token_embd(idx)
        for b in self.blocks:
            h = b(h, pos)
        z = self.output_norm(h)
        w = self.token_embd.weight if self.output is None else self.output.weight
        logits = z @ w.to(z.dtype).t()
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    def n_params(self, linear_only=False):
        if linear_only:
            return sum(p.numel() for n, p in self.named_parameters() if n.startswith("blocks") and p.dim() == 2)
        return sum(p.numel() for p in self.parameters())
