"""Train a byte-level BPE vocabulary (default 16384 tokens) on corpus text.

Pieces come from the qwen2-compatible pre-tokenizer, so the C++ tokenizer and llama.cpp
(gpt2 model, pre "qwen2") reproduce our training-time tokenization. Ids 0..255 are the
256 byte symbols, then one id per merge result (in merge order), then the control tokens
<|endoftext|>, <|im_start|>, <|im_end|>. Whitespace and newlines are ordinary bytes, so
any text round-trips.

Usage: python3 -m bonsai_train.tokenizer_train --corpus training/corpus --out tok.json
"""
import argparse
import collections
import glob
import heapq
import json
import os
import sys

from .tokenizer import BYTE_ENC, BYTE_ORDER, Tokenizer, pretokenize

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def train_bpe(piece_counts, vocab_size, specials=SPECIALS, log_every=2000):
    """piece_counts: {piece str: count}. Returns a Tokenizer."""
    n_merges_max = vocab_size - 256 - len(specials)
    words = [[BYTE_ENC[b] for b in p.encode("utf-8")] for p in piece_counts]
    freqs = list(piece_counts.values())
    pair_cnt = collections.Counter()
    where = collections.defaultdict(set)
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_cnt[(a, b)] += f
            where[(a, b)].add(wi)
    # max-heap with lazy invalidation; ties broken by the pair text for determinism
    heap = [(-c, p) for p, c in pair_cnt.items()]
    heapq.heapify(heap)
    tokens = list(BYTE_ORDER)
    have = set(tokens)
    merges = []
    while len(tokens) < 256 + n_merges_max and heap:
        c, p = heapq.heappop(heap)
        if pair_cnt.get(p, 0) != -c or c == 0:
            continue
        if -c < 2:
            break
        a, b = p
        new = a + b
        merges.append(p)
        if new not in have:
            have.add(new)
            tokens.append(new)
        changed = set()
        for wi in list(where[p]):
            w, f = words[wi], freqs[wi]
            i, out = 0, []
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            if len(out) == len(w):
                continue
            for x, y in zip(w, w[1:]):
                pair_cnt[(x, y)] -= f
                changed.add((x, y))
                where[(x, y)].discard(wi)
            for x, y in zip(out, out[1:]):
                pair_cnt[(x, y)] += f
                changed.add((x, y))
                where[(x, y)].add(wi)
            words[wi] = out
        pair_cnt.pop(p, None)
        where.pop(p, None)
        for q in changed:
            v = pair_cnt.get(q, 0)
            if v > 0 and q != p:
                heapq.heappush(heap, (-v, q))
        if log_every and len(merges) % log_every == 0:
            print("[tok] %d merges, last %r count %d" % (len(merges), new, -c), file=sys.stderr, flush=True)
    special = {}
    for s in specials:
        special[s] = len(tokens)
        tokens.append(s)
    return Tokenizer(tokens, merges, special)


def count_pieces(texts):
    cnt = collections.Counter()
    for t in texts:
        cnt.update(pretokenize(t))
    return cnt


def sample_corpus(corpus_dir, max_bytes):
    """Equal share of max_bytes from each corpus .txt file, paragraphs from its whole length."""
    files = sorted(glob.glob(os.path.join(corpus_dir, "*.txt")))
    out = []
    for f in files:
        data = open(f, encoding="utf-8").read()
        share = int(max_bytes / max(1, len(files)))
        if len(data) <= share:
            out.append(data)
            continue
        step = len(data) // share
        chunk = 4096
        for off in range(0, len(data), chunk * max(1, step)):
            out.append(data[off:off + chunk])
    return out


def save(tok, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"tokens": tok.tokens, "merges": [list(m) for m in tok.merges],
                   "special": tok.special}, f, ensure_ascii=False)


def load(path):
    d = json.load(open(path, encoding="utf-8"))
    return Tokenizer(d["tokens"], d["merges"], d["special"])


def main(argv=None):
    ap = argparse.ArgumentParser(description="train byte-level BPE")
    ap.add_argument("--corpus", default="training/corpus")
    ap.add_argument("--out", default="training/out/tokenizer.json")
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--sample-bytes", type=float, default=6e6)
    a = ap.parse_args(argv)
    texts = sample_corpus(a.corpus, a.sample_bytes)
    cnt = count_pieces(texts)
    print("[tok] %d unique pieces" % len(cnt), file=sys.stderr)
    tok = train_bpe(cnt, a.vocab)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    save(tok, a.out)
    print("[tok] vocab %d, merges %d -> %s" % (len(tok.tokens), len(tok.merges), a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
