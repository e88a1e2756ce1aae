"""Tokenize the corpus (+ instruction pairs) into flat uint16 token files.

Each source text is cut into chunks of whole paragraphs (~4000 characters); every chunk
and every instruction sample is one document, followed by <|endoftext|>. Every 50th
document goes to the held-out set (val.bin), the rest to train.bin. ChatML special
tokens are parsed only in instruction samples.

Usage: python3 -m bonsai_train.data --corpus training/corpus --tokenizer tok.json --out dir
"""
import argparse
import glob
import json
import os
import random

import numpy as np

from . import instruct, tokenizer_train

VAL_EVERY = 50


def chunks(text, size=4000):
    cur, n = [], 0
    for para in text.split("\n\n"):
        cur.append(para)
        n += len(para) + 2
        if n >= size:
            yield "\n\n".join(cur)
            cur, n = [], 0
    if cur:
        yield "\n\n".join(cur)


def documents(corpus_dir, with_instruct=True):
    """Yields (source name, text, parse_special)."""
    for f in sorted(glob.glob(os.path.join(corpus_dir, "*.txt"))):
        src = os.path.basename(f)[:-4]
        for c in chunks(open(f, encoding="utf-8").read()):
            yield src, c, False
    if with_instruct and os.path.exists(os.path.join(corpus_dir, "facts.jsonl")):
        for s in instruct.build(os.path.join(corpus_dir, "facts.jsonl")):
            yield "instruct", s, True


def prepare(corpus_dir, tok, out_dir, with_instruct=True, seed=0):
    os.makedirs(out_dir, exist_ok=True)
    eot = tok.special["<|endoftext|>"]
    docs = list(documents(corpus_dir, with_instruct))
    rng = random.Random(seed)
    rng.shuffle(docs)
    train, val, stats = [], [], {}
    for i, (src, text, special) in enumerate(docs):
        ids = tok.encode(text, parse_special=special) + [eot]
        (val if i % VAL_EVERY == 0 else train).append(np.asarray(ids, dtype=np.uint16))
        st = stats.setdefault(src, {"docs": 0, "tokens": 0, "chars": 0})
        st["docs"] += 1
        st["tokens"] += len(ids)
        st["chars"] += len(text)
    tr, va = np.concatenate(train), np.concatenate(val)
    tr.tofile(os.path.join(out_dir, "train.bin"))
    va.tofile(os.path.join(out_dir, "val.bin"))
    meta = {"train_tokens": int(tr.size), "val_tokens": int(va.size), "sources": stats,
            "vocab_size": len(tok.tokens)}
    json.dump(meta, open(os.path.join(out_dir, "data.json"), "w"), indent=1)
    return meta


def load_tokens(path):
    return np.fromfile(path, dtype=np.uint16)


def main(argv=None):
    ap = argparse.ArgumentParser(description="tokenize corpus into train.bin/val.bin")
    ap.add_argument("--corpus", default="training/corpus")
    ap.add_argument("--tokenizer", default="training/out/tokenizer.json")
    ap.add_argument("--out", default="training/out/data")
    ap.add_argument("--no-instruct", action="store_true")
    a = ap.parse_args(argv)
    meta = prepare(a.corpus, tokenizer_train.load(a.tokenizer), a.out, not a.no_instruct)
    print(json.dumps({k: v for k, v in meta.items() if k != "sources"}))


if __name__ == "__main__":
    main()
