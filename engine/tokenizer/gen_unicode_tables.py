#!/usr/bin/python3
# Generates engine/tokenizer/unicode_tables.cpp: the Unicode categories the BPE pre-tokenizers need.
#   /usr/bin/python3 engine/tokenizer/gen_unicode_tables.py > engine/tokenizer/unicode_tables.cpp
# Source: Python's unicodedata (its Unicode version is written into the output).
#   LETTER  = general category L* (Lu Ll Lt Lm Lo)  -> regex \p{L}
#   NUMBER  = general category N* (Nd Nl No)        -> regex \p{N}
#   PUNCT   = general category P* (Pc Pd Ps Pe Pi Pf Po) -> regex \p{P}
#   SPACE   = the Unicode White_Space property (regex \s in Unicode mode; NOT Python's str.isspace,
#             which also accepts U+001C..U+001F). The list is fixed by PropList.txt and written out here.
import sys
import unicodedata

WHITE_SPACE = [(0x0009, 0x000D), (0x0020, 0x0020), (0x0085, 0x0085), (0x00A0, 0x00A0),
               (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F),
               (0x205F, 0x205F), (0x3000, 0x3000)]
LETTER, NUMBER, PUNCT, SPACE = 1, 2, 4, 8


def flags_of(cp, ws):
    f = 0
    cat = unicodedata.category(chr(cp))
    if cat[0] == 'L':
        f |= LETTER
    elif cat[0] == 'N':
        f |= NUMBER
    elif cat[0] == 'P':
        f |= PUNCT
    if cp in ws:
        f |= SPACE
    return f


def main():
    ws = set()
    for a, b in WHITE_SPACE:
        ws.update(range(a, b + 1))
    ranges = []  # [first, last, flags]
    for cp in range(0x110000):
        f = flags_of(cp, ws)
        if f == 0:
            continue
        if ranges and ranges[-1][1] == cp - 1 and ranges[-1][2] == f:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, f])
    out = sys.stdout
    out.write("// GENERATED FILE - do not edit. Regenerate with:\n")
    out.write("//   /usr/bin/python3 engine/tokenizer/gen_unicode_tables.py > engine/tokenizer/unicode_tables.cpp\n")
    out.write("// Data: Python %s unicodedata, Unicode %s. Ranges of code points with identical non-zero flags,\n"
              % (sys.version.split()[0], unicodedata.unidata_version))
    out.write("// sorted and non-overlapping (see gen_unicode_tables.py for the flag meanings).\n")
    out.write('#include "tokenizer/unicode.h"\n\nnamespace bonsai::tok {\n\n')
    out.write("const CategoryRange kCategoryRanges[] = {\n")
    for a, b, f in ranges:
        out.write("    {0x%05X, 0x%05X, %d},\n" % (a, b, f))
    out.write("};\n\nconst size_t kCategoryRangeCount = sizeof(kCategoryRanges) / sizeof(kCategoryRanges[0]);\n\n")
    out.write("}  // namespace bonsai::tok\n")


if __name__ == "__main__":
    main()
