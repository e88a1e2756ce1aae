"""GGUF export round trip (own naive decoders from the spec), reader vs fixtures, and the
PyTorch qwen3 graph vs llama.cpp logits of the shared fixture model."""
import os
import struct

import numpy as np
import pytest
import torch

from bonsai_train import export_gguf, gguf, quants, tws
from bonsai_train.model import Config, Qwen3
from bonsai_train.tokenizer import BYTE_ORDER, Tokenizer
from conftest import FIXTURES


def naive_tq2_0(raw, n):
    """Spec loops: 66-byte blocks, qs[64] then f16 d; value 128h+32l+m = ((qs[32h+m] >> 2l) & 3) - 1."""
    out = np.zeros(n)
    for b in range(n // 256):
        blk = raw[b * 66:(b + 1) * 66]
        d = struct.unpack("<e", bytes(blk[64:66]))[0]
        for h in range(2):
            for l in range(4):
                for m in range(32):
                    out[b * 256 + 128 * h + 32 * l + m] = (((blk[32 * h + m] >> (2 * l)) & 3) - 1) * d
    return out


def naive_q2_0(raw, n):
    """Spec loops: 18-byte blocks, f16 d then qs[16]; value j = ((qs[j/4] >> 2(j%4)) & 3) - 1."""
    out = np.zeros(n)
    for b in range(n // 64):
        blk = raw[b * 18:(b + 1) * 18]
        d = struct.unpack("<e", bytes(blk[0:2]))[0]
        for j in range(64):
            out[b * 64 + j] = (((blk[2 + j // 4] >> (2 * (j % 4))) & 3) - 1) * d
    return out


def tiny_tokenizer(n):
    toks = list(BYTE_ORDER)
    merges = []
    while len(toks) < n - 3:
        a, b = "a" * (len(merges) + 1), "a"
        merges.append((a, b))
        toks.append(a + b)
    special = {s: len(toks) + i for i, s in enumerate(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])}
    toks += list(special)
    return Tokenizer(toks, merges, special)


def tiny_model(block):
    torch.manual_seed(5)
    c = Config(vocab_size=272, n_embd=256, n_layer=2, n_head=8, n_head_kv=4, head_dim=32, n_ff=512,
               context_length=128)
    m = Qwen3(c, tws.ternary_factory(block))
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
        for layer in tws.ternary_layers(m):
            layer.log_scale.add_(torch.randn_like(layer.log_scale) * 0.2)
    return m


@pytest.mark.parametrize("block,ttype,naive", [(256, gguf.TQ2_0, naive_tq2_0), (64, gguf.Q2_0, naive_q2_0)])
def test_export_round_trip(tmp_path, block, ttype, naive):
    m = tiny_model(block)
    tok = tiny_tokenizer(272)
    path = str(tmp_path / "tiny.gguf")
    export_gguf.export(m, tok, path)
    g = gguf.GGUFFile(path)
    kv = g.kv
    assert kv["general.architecture"] == "qwen3"
    for k, v in [("qwen3.embedding_length", 256), ("qwen3.block_count", 2), ("qwen3.feed_forward_length", 512),
                 ("qwen3.attention.head_count", 8), ("qwen3.attention.head_count_kv", 4),
                 ("qwen3.attention.key_length", 32), ("qwen3.attention.value_length", 32),
                 ("qwen3.rope.dimension_count", 32), ("qwen3.context_length", 128), ("qwen3.vocab_size", 272)]:
        assert kv[k] == v and g.types[k] == gguf.UINT32, k
    assert g.types["qwen3.attention.layer_norm_rms_epsilon"] == gguf.FLOAT32
    assert kv["tokenizer.ggml.model"] == "gpt2" and kv["tokenizer.ggml.pre"] == "qwen2"
    assert kv["tokenizer.ggml.tokens"] == tok.tokens
    assert kv["tokenizer.ggml.merges"][0] == "a a"
    assert kv["tokenizer.ggml.token_type"][-1] == 3 and kv["tokenizer.ggml.token_type"][0] == 1
    assert kv["tokenizer.ggml.eos_token_id"] == tok.special["<|im_end|>"]
    assert "<|im_start|>" in kv["tokenizer.chat_template"]
    # ternary tensors decode (naive spec loops) to exactly codes x f16 scale
    for i, b in enumerate(m.blocks):
        for n in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"):
            layer = getattr(b, n)
            t = g.tensors["blk.%d.%s.weight" % (i, n)]
            assert t["type"] == ttype
            assert t["ne"] == [layer.weight.shape[1], layer.weight.shape[0]]
            codes, s = layer.codes_and_scales()
            expect = (codes.double() * s.double().repeat_interleave(block, 1)).numpy().reshape(-1)
            got = naive(t["data"], expect.size) if i == 0 and n in ("attn_k", "ffn_down") else \
                quants.dequantize(t["data"], ttype, t["ne"]).reshape(-1)
            assert np.array_equal(got, expect), n
        nw = g.tensors["blk.%d.attn_q_norm.weight" % i]
        assert nw["type"] == gguf.F32
        assert np.array_equal(nw["data"].view("<f4"), b.attn_q_norm.weight.detach().numpy())
    assert "output.weight" not in g.tensors
    # the dequantized file reproduces the ternary model's logits
    fm, _ = export_gguf.load_model_from_gguf(path)
    with torch.no_grad():
        x = torch.randint(0, 272, (1, 12))
        m.token_embd.weight.copy_(m.token_embd.weight.half().float())  # file holds F16 embeddings
        assert torch.allclose(fm(x), m(x), atol=1e-4)


def test_q8_0_pack_matches_spec():
    x = np.random.default_rng(0).normal(size=(2, 64)).astype(np.float32)
    raw = np.frombuffer(quants.pack_q8_0(x), dtype=np.uint8)
    for b in range(4):
        blk = raw[b * 34:(b + 1) * 34]
        d = struct.unpack("<e", bytes(blk[:2]))[0]
        q = blk[2:].view(np.int8).astype(np.float64)
        ref = x.reshape(-1, 32)[b]
        assert abs(d - np.abs(ref).max() / 127) < 1e-3 * d
        assert np.abs(q * d - ref).max() <= d * 0.5 + 1e-3


@pytest.mark.parametrize("name", ["TQ2_0", "Q2_0", "Q8_0"])
def test_reader_decodes_fixture_blocks(name):
    path = os.path.join(FIXTURES, "dequant", name + ".gguf")
    if not os.path.exists(path):
        pytest.skip("fixture missing")
    g = gguf.GGUFFile(path)
    for tn in g.tensors:
        ref = np.fromfile(os.path.join(FIXTURES, "dequant", "%s.%s.f32" % (name, tn)), dtype="<f4")
        got = g.tensor_f32(tn).reshape(-1)
        assert np.array_equal(got, ref), tn


def test_model_matches_llama_cpp_fixture_logits():
    path = os.path.join(FIXTURES, "models", "qwen3-e256-F32.gguf")
    if not os.path.exists(path):
        pytest.skip("fixture missing")
    m, g = export_gguf.load_model_from_gguf(path)
    m = m.double()
    ids = [int(x) for x in open(os.path.join(FIXTURES, "models", "tokens.txt")).read().split()]
    ref = np.fromfile(path[:-5] + ".logits.f32", dtype="<f4").reshape(len(ids), -1)
    with torch.no_grad():
        got = m(torch.tensor([ids])).numpy()[0]
    assert np.abs(got - ref).max() < 0.015  # fixture README tolerance for F32
