#!/usr/bin/env python3
# Generates tests/tokenizer/data/pretokenize_cases.json: reference pre-tokenizer splits computed with the
# third-party Python `regex` module (full Unicode \p{..} support, backtracking semantics like the
# Oniguruma engine Hugging Face tokenizers use), independent of our hand-written scanners.
#   python3 tests/tokenizer/gen_pretokenize_cases.py <shared>/fixtures/vocab/ggml-vocab-qwen2.gguf.inp \
#       > tests/tokenizer/data/pretokenize_cases.json
# (needs `import regex`; the Python here has regex 2026.5.9). Random characters are limited to ones whose
# L/N/P/White_Space class is the same in this Python's unicodedata and in `regex`, so Unicode version
# differences between the two do not leak in.
import json
import random
import sys
import unicodedata

import regex

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
QWEN2 = (r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
         r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3 = QWEN2.replace(r"|\p{N}|", r"|\p{N}{1,3}|")
DEFAULT = [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"]
PRES = {"gpt2": [GPT2], "qwen2": [QWEN2], "llama3": [LLAMA3], "default": DEFAULT}


def split(pieces, pattern):
    out = []
    rx = regex.compile(pattern)
    for p in pieces:
        last = 0
        for m in rx.finditer(p):
            if m.start() > last:
                out.append(p[last:m.start()])
            out.append(m.group())
            last = m.end()
        if last < len(p):
            out.append(p[last:])
    return out


def same_class(c):
    ud = unicodedata.category(c)[0]
    for cls, pat in (("L", r"\p{L}"), ("N", r"\p{N}"), ("P", r"\p{P}")):
        if (ud == cls) != bool(regex.match(pat, c)):
            return False
    return ud != "C" or c in "\t\n\r\x0b\x0c\x85"


INTERESTING = (list("abcXYZ'sStTrReEvVmMlLdD0123456789 !?.,;:$+<=>^~|()[]{}\"-_#@*/\\`%&") +
               ["\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\xa0", "\u2000", "\u2028", "\u3000", "  ", "   ",
                "\u00e9", "\u0416", "\u4e2d", "\u3131", "\u01c5", "\u02b0", "\u0301", "\u0663", "\uff13", "\u00b2",
                "\u216b", "\u3001", "\u00ab", "\u00bf", "\u2014", "\u2010", "\u20ac", "\u00a9", "\U0001F999",
                "\u200d", "\ufe0f", "'s", "'LL", "'Re", " 's", "123456", " 12", "...", "!!!"])


def random_text(rng, pool):
    parts = []
    for _ in range(rng.randint(0, 14)):
        r = rng.random()
        if r < 0.6:
            parts.append(rng.choice(INTERESTING))
        else:
            parts.append(rng.choice(pool))
    return "".join(parts)


def main():
    rng = random.Random(20261126)
    pool = []
    while len(pool) < 3000:
        cp = rng.choice([rng.randint(0x80, 0x2FFF), rng.randint(0x3000, 0xFFFF), rng.randint(0x10000, 0x1FFFF)])
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if unicodedata.category(c) == "Cn" or not same_class(c):
            continue
        pool.append(c)
    texts = []
    with open(sys.argv[1] if len(sys.argv) > 1 else "/dev/null", "rb") as f:
        data = f.read()
    sep = b"\n__ggml_vocab_test__\n"
    texts += [t.decode("utf-8") for t in data.split(sep)[:-1]]
    texts += [random_text(rng, pool) for _ in range(700)]
    cases = []
    for text in texts:
        for name, patterns in PRES.items():
            pieces = [text] if text else []
            for p in patterns:
                pieces = split(pieces, p)
            assert "".join(pieces) == text
            ends, pos = [], 0
            for p in pieces:
                pos += len(p.encode("utf-8"))
                ends.append(pos)
            cases.append({"pre": name, "text": text, "ends": ends})
    json.dump({"generator": "tests/tokenizer/gen_pretokenize_cases.py", "regex_version": regex.__version__,
               "cases": cases}, sys.stdout, ensure_ascii=True, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
