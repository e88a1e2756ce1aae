"""Tokenizer: llama.cpp qwen2 parity on the fixture vocab, BPE training, round trips."""
import os
import random

import pytest

from bonsai_train import gguf, tokenizer_train
from bonsai_train.tokenizer import BYTE_ENC, Tokenizer, pretokenize
from conftest import FIXTURES

QWEN2 = os.path.join(FIXTURES, "vocab", "ggml-vocab-qwen2.gguf")


def load_fixture_vocab(path):
    g = gguf.GGUFFile(path)
    toks, tt = g.kv["tokenizer.ggml.tokens"], g.kv["tokenizer.ggml.token_type"]
    merges = [m.split(" ", 1) for m in g.kv["tokenizer.ggml.merges"]]
    user_defined = {t: i for i, t in enumerate(toks) if tt[i] == 4}
    return Tokenizer(toks, merges, user_defined)


@pytest.mark.skipif(not os.path.exists(QWEN2), reason="fixture vocab missing")
def test_matches_llama_cpp_qwen2_ids():
    tok = load_fixture_vocab(QWEN2)
    inp = open(QWEN2 + ".inp", "rb").read().decode("utf-8")
    texts = inp.split("\n__ggml_vocab_test__\n")[:-1]
    outs = open(QWEN2 + ".out", encoding="utf-8").read().split("\n")
    assert len(texts) == 46
    for text, line in zip(texts, outs):
        assert tok.encode(text, parse_special=True) == [int(x) for x in line.split()], repr(text)


def test_bytes_to_unicode_examples():
    assert BYTE_ENC[0x20] == "\u0120" and BYTE_ENC[0x0A] == "\u010a" and BYTE_ENC[0x09] == "\u0109"
    assert BYTE_ENC[ord("A")] == "A" and len(set(BYTE_ENC.values())) == 256


def test_pretokenize_examples():
    assert pretokenize("Hello world's 123") == ["Hello", " world", "'s", " ", "1", "2", "3"]
    assert pretokenize("a  \n\n  b") == ["a", "  \n\n", " ", " b"]
    assert pretokenize("x!!\n\ny") == ["x", "!!\n\n", "y"]
    assert pretokenize("end   ") == ["end", "   "]


def random_text(rng, n):
    alphabet = list("abcdefghij XYZ \t\n\r\n012345.,;:'\"!?()[]{}-_/\\") + ["é", "ß", "中文", "🦙", "\u00a0", "\u3000", "ﬁ", "'s", "'LL"]
    return "".join(rng.choice(alphabet) for _ in range(n))


def test_trained_bpe_round_trips_random_text():
    rng = random.Random(0)
    corpus = ["the quick brown fox jumps over the lazy dog\n" * 3, "def f(x):\n    return x  # comment\n",
              "Grüße aus Köln — 中文 🦙\t\ttabs   spaces\n\n\n"] * 5
    tok = tokenizer_train.train_bpe(tokenizer_train.count_pieces(corpus), 256 + 60 + 3, log_every=0)
    assert len(tok.tokens) <= 256 + 60 + 3 and len(tok.tokens) == len(set(tok.tokens))
    assert len(tok.encode("the quick brown fox")) < len("the quick brown fox")
    for _ in range(200):
        t = random_text(rng, rng.randint(0, 60))
        ids = tok.encode(t)
        assert tok.decode(ids) == t
    chat = "<|im_start|>user\nhi<|im_end|>\n"
    ids = tok.encode(chat, parse_special=True)
    assert ids[0] == tok.special["<|im_start|>"] and tok.special["<|im_end|>"] in ids
    assert tok.decode(ids, render_special=True) == chat
    # without special parsing the same text is plain bytes
    assert tok.special["<|im_start|>"] not in tok.encode(chat)
    assert tok.decode(tok.encode(chat)) == chat


def test_bpe_merges_follow_rank_order():
    # merges: (a,b) rank 0, (b,c) rank 1 -> "abc" = [ab, c]; with ranks swapped -> [a, bc]
    base = [BYTE_ENC[b] for b in range(256)]
    t1 = Tokenizer(base + ["ab", "bc"], [("a", "b"), ("b", "c")])
    t2 = Tokenizer(base + ["ab", "bc"], [("b", "c"), ("a", "b")])
    assert [t1.tokens[i] for i in t1.encode("abc")] == ["ab", "c"]
    assert [t2.tokens[i] for i in t2.encode("abc")] == ["a", "bc"]
