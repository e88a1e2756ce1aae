"""Export a Qwen3 model (float or TWS-ternary) plus its tokenizer to a GGUF v3 file.

- arch "qwen3" with every qwen3.* key of formats.md §3.1,
- tokenizer.ggml.model "gpt2", pre "qwen2", tokens / token_type / merges, bos/eos/pad ids,
  add_bos_token false, a ChatML tokenizer.chat_template,
- TernaryLinear weights as TQ2_0 (block 256) or Q2_0 (block 64): codes and the f16 block
  scales exactly as used in the forward pass,
- plain float linears as F16 (or F32), norms F32, embeddings F16 or Q8_0.

Usage: python3 -m bonsai_train.export_gguf --ckpt model.pt --tokenizer tok.json --out m.gguf
"""
import argparse

import numpy as np
import torch

from . import gguf, quants
from .tws import TernaryLinear

CHATML = ("{%- for message in messages %}"
          "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
          "{%- endfor %}"
          "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")


def _f(t):
    return t.detach().float().cpu().numpy()


def linear_tensor(mod, float_type):
    """(type id, raw bytes) of one projection."""
    if isinstance(mod, TernaryLinear):
        codes, scales = mod.codes_and_scales()
        codes, scales = codes.cpu().numpy(), scales.cpu().numpy()
        if mod.block == 256:
            return gguf.TQ2_0, quants.pack_tq2_0(codes, scales)
        if mod.block == 64:
            return gguf.Q2_0, quants.pack_q2_0(codes, scales)
        raise ValueError("no GGUF type for ternary block %d" % mod.block)
    w = _f(mod.weight)
    if float_type == "f32":
        return gguf.F32, w.astype("<f4").tobytes()
    return gguf.F16, w.astype("<f2").tobytes()


def export(model, tok, path, embd_type="f16", float_type="f16", name="bonsai"):
    c = model.c
    if len(tok.tokens) != c.vocab_size:
        raise ValueError("tokenizer has %d tokens, model %d" % (len(tok.tokens), c.vocab_size))
    w = gguf.GGUFWriter()
    U32, F32s, S = gguf.UINT32, gguf.FLOAT32, gguf.STRING
    w.add("general.architecture", S, "qwen3")
    w.add("general.name", S, name)
    w.add("general.quantization_version", U32, 2)
    w.add("qwen3.context_length", U32, c.context_length)
    w.add("qwen3.embedding_length", U32, c.n_embd)
    w.add("qwen3.block_count", U32, c.n_layer)
    w.add("qwen3.feed_forward_length", U32, c.n_ff)
    w.add("qwen3.attention.head_count", U32, c.n_head)
    w.add("qwen3.attention.head_count_kv", U32, c.n_head_kv)
    w.add("qwen3.attention.key_length", U32, c.head_dim)
    w.add("qwen3.attention.value_length", U32, c.head_dim)
    w.add("qwen3.attention.layer_norm_rms_epsilon", F32s, c.eps)
    w.add("qwen3.rope.freq_base", F32s, c.rope_base)
    w.add("qwen3.rope.dimension_count", U32, c.head_dim)
    w.add("qwen3.vocab_size", U32, c.vocab_size)
    w.add("tokenizer.ggml.model", S, "gpt2")
    w.add("tokenizer.ggml.pre", S, "qwen2")
    w.add("tokenizer.ggml.tokens", gguf.ARRAY, tok.tokens, gguf.STRING)
    special_ids = set(tok.special.values())
    w.add("tokenizer.ggml.token_type", gguf.ARRAY,
          [3 if i in special_ids else 1 for i in range(len(tok.tokens))], gguf.INT32)
    w.add("tokenizer.ggml.merges", gguf.ARRAY, [a + " " + b for a, b in tok.merges], gguf.STRING)
    eot = tok.special["<|endoftext|>"]
    w.add("tokenizer.ggml.bos_token_id", U32, eot)
    w.add("tokenizer.ggml.eos_token_id", U32, tok.special["<|im_end|>"])
    w.add("tokenizer.ggml.padding_token_id", U32, eot)
    w.add("tokenizer.ggml.add_bos_token", gguf.BOOL, False)
    w.add("tokenizer.chat_template", S, CHATML)

    emb = _f(model.token_embd.weight)
    if embd_type == "q8_0":
        w.add_tensor("token_embd.weight", [c.n_embd, c.vocab_size], gguf.Q8_0, quants.pack_q8_0(emb))
    else:
        w.add_tensor("token_embd.weight", [c.n_embd, c.vocab_size], gguf.F16, emb.astype("<f2").tobytes())

    def norm(name, p):
        a = _f(p).astype("<f4")
        w.add_tensor(name, [a.shape[0]], gguf.F32, a.tobytes())

    for i, b in enumerate(model.blocks):
        pre = "blk.%d." % i
        norm(pre + "attn_norm.weight", b.attn_norm.weight)
        for n in ("attn_q", "attn_k", "attn_v", "attn_output"):
            m = getattr(b, n)
            tt, raw = linear_tensor(m, float_type)
            w.add_tensor(pre + n + ".weight", [m.weight.shape[1], m.weight.shape[0]], tt, raw)
        norm(pre + "attn_q_norm.weight", b.attn_q_norm.weight)
        norm(pre + "attn_k_norm.weight", b.attn_k_norm.weight)
        norm(pre + "ffn_norm.weight", b.ffn_norm.weight)
        for n in ("ffn_gate", "ffn_up", "ffn_down"):
            m = getattr(b, n)
            tt, raw = linear_tensor(m, float_type)
            w.add_tensor(pre + n + ".weight", [m.weight.shape[1], m.weight.shape[0]], tt, raw)
    norm("output_norm.weight", model.output_norm.weight)
    if model.output is not None:
        o = _f(model.output.weight)
        w.add_tensor("output.weight", [c.n_embd, c.vocab_size], gguf.F16, o.astype("<f2").tobytes())
    w.write(path)


def load_model_from_gguf(path):
    """Rebuild a float Qwen3 (all weights dequantized) and config from one of our GGUFs or
    any qwen3 GGUF whose tensor types quants.py decodes. For tests and sampling."""
    from .model import Config, Qwen3
    g = gguf.GGUFFile(path)
    kv = g.kv
    a = kv["general.architecture"]
    c = Config(vocab_size=len(kv["tokenizer.ggml.tokens"]), n_embd=kv[a + ".embedding_length"],
               n_layer=kv[a + ".block_count"], n_head=kv[a + ".attention.head_count"],
               n_head_kv=kv.get(a + ".attention.head_count_kv", kv[a + ".attention.head_count"]),
               head_dim=kv.get(a + ".attention.key_length", kv[a + ".embedding_length"] // kv[a + ".attention.head_count"]),
               n_ff=kv[a + ".feed_forward_length"], context_length=kv[a + ".context_length"],
               rope_base=kv.get(a + ".rope.freq_base", 10000.0), eps=kv[a + ".attention.layer_norm_rms_epsilon"],
               tied="output.weight" not in g.tensors)
    m = Qwen3(c)
    sd = {}
    for name in g.tensors:
        t = torch.from_numpy(np.array(g.tensor_f32(name), dtype=np.float32))
        sd[name.replace("blk.", "blocks.")] = t
    m.load_state_dict(sd, strict=True)
    return m, g


def main(argv=None):
    from . import train, tokenizer_train
    ap = argparse.ArgumentParser(description="export a checkpoint to GGUF")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--embd-type", default="f16", choices=["f16", "q8_0"])
    ap.add_argument("--name", default="bonsai")
    a = ap.parse_args(argv)
    model = train.load_checkpoint(a.ckpt, "cpu")
    export(model, tokenizer_train.load(a.tokenizer), a.out, a.embd_type, name=a.name)


if __name__ == "__main__":
    main()
