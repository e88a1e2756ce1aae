"""Byte-level BPE tokenizer compatible with llama.cpp's `gpt2` model + `qwen2` pre-tokenizer.

- bytes_to_unicode: GPT-2 mapping (printable bytes map to themselves, the other 68 bytes
  to U+0100.. in byte order), so vocabulary strings and merges are stored encoded.
- pretokenize: a hand-written scanner equivalent to the qwen2 regex
  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+
  (Python's `re` has no \\p{..} classes and the `regex` module is not available here).
- encode: special tokens split first (longest first, when parse_special), then each piece is
  merged by lowest merge rank, leftmost first, as llama.cpp does.
"""
import unicodedata


def bytes_to_unicode():
    """GPT-2 byte -> code point table (dict int -> str)."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {v: k for k, v in BYTE_ENC.items()}
# Byte symbols in GPT-2 vocabulary order (printable ranges first), used as ids 0..255.
BYTE_ORDER = ([chr(b) for b in range(0x21, 0x7F)] + [chr(b) for b in range(0xA1, 0xAD)] +
              [chr(b) for b in range(0xAE, 0x100)] +
              [BYTE_ENC[b] for b in range(256) if BYTE_ENC[b] == chr(256 + 0) or ord(BYTE_ENC[b]) >= 256])
# Unicode White_Space property (what \s means in the reference regex engines).
WHITESPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}

_cat_cache = {}


def _cls(c):
    """'L' letter, 'N' number, 'S' whitespace, 'O' other."""
    r = _cat_cache.get(c)
    if r is None:
        if c in WHITESPACE:
            r = "S"
        else:
            k = unicodedata.category(c)[0]
            r = k if k in "LN" else "O"
        _cat_cache[c] = r
    return r


def pretokenize(text):
    """Split text into pieces exactly like the qwen2 pre-tokenizer regex."""
    out, i, n = [], 0, len(text)
    cls = [_cls(c) for c in text]
    while i < n:
        c = text[i]
        # 1. contractions (ASCII case-insensitive)
        if c == "'" and i + 1 < n:
            two = text[i + 1:i + 3].lower()
            if two in ("re", "ve", "ll"):
                out.append(text[i:i + 3]); i += 3; continue
            if text[i + 1].lower() in "stmd" and text[i + 1].isascii():
                out.append(text[i:i + 2]); i += 2; continue
        k = cls[i]
        # 2. [^\r\n\p{L}\p{N}]?\p{L}+
        j = i
        if k != "L" and k != "N" and c not in "\r\n" and i + 1 < n and cls[i + 1] == "L":
            j = i + 1
        if cls[j] == "L":
            j += 1
            while j < n and cls[j] == "L":
                j += 1
            out.append(text[i:j]); i = j; continue
        # 3. \p{N}
        if k == "N":
            out.append(c); i += 1; continue
        # 4. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        j = i + 1 if c == " " else i
        if j < n and cls[j] == "O":
            while j < n and cls[j] == "O":
                j += 1
            while j < n and text[j] in "\r\n":
                j += 1
            out.append(text[i:j]); i = j; continue
        # whitespace alternatives
        e = i
        while e < n and cls[e] == "S":
            e += 1
        # 5. \s*[\r\n]+ : up to the last CR/LF of the run
        last = -1
        for p in range(e - 1, i - 1, -1):
            if text[p] in "\r\n":
                last = p
                break
        if last >= 0:
            out.append(text[i:last + 1]); i = last + 1; continue
        # 6. \s+(?!\S)  7. \s+
        if e == n or e - i == 1:
            out.append(text[i:e]); i = e; continue
        out.append(text[i:e - 1]); i = e - 1
    return out


class Tokenizer:
    """tokens: list of encoded token strings (id = index); merges: list of (a, b) encoded
    strings in rank order; special: dict text -> id of control tokens."""

    def __init__(self, tokens, merges, special=None):
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.merges = [tuple(m) for m in merges]
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self.special = dict(special or {})
        self._special_sorted = sorted(self.special, key=len, reverse=True)
        self._cache = {}

    def _bpe(self, piece):
        sym = [BYTE_ENC[b] for b in piece.encode("utf-8")]
        ranks = self.ranks
        while len(sym) > 1:
            best, bi = None, -1
            for i in range(len(sym) - 1):
                r = ranks.get((sym[i], sym[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            sym[bi:bi + 2] = [sym[bi] + sym[bi + 1]]
        return sym

    def _encode_text(self, text, out):
        for piece in pretokenize(text):
            ids = self._cache.get(piece)
            if ids is None:
                ids = []
                for s in self._bpe(piece):
                    t = self.ids.get(s)
                    if t is None:  # fall back to one id per encoded character
                        ids.extend(self.ids[ch] for ch in s)
                    else:
                        ids.append(t)
                if len(self._cache) < 500000:
                    self._cache[piece] = ids
            out.extend(ids)

    def encode(self, text, parse_special=False):
        out = []
        if not parse_special or not self.special:
            self._encode_text(text, out)
            return out
        i, start, n = 0, 0, len(text)
        while i < n:
            hit = None
            if text[i] == "<":
                for s in self._special_sorted:
                    if text.startswith(s, i):
                        hit = s
                        break
            if hit:
                if start < i:
                    self._encode_text(text[start:i], out)
                out.append(self.special[hit])
                i += len(hit)
                start = i
            else:
                i += 1
        if start < n:
            self._encode_text(text[start:], out)
        return out

    def decode(self, ids, render_special=False):
        inv = {v: k for k, v in self.special.items()}
        bs = bytearray()
        for t in ids:
            if t in inv:
                if render_special:
                    bs += inv[t].encode("utf-8")
                continue
            bs += bytes(BYTE_DEC[ch] for ch in self.tokens[t])
        return bs.decode("utf-8", "replace")
