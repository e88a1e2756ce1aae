#pragma once
// BPE pre-tokenizers (formats.md §5.3): split a text fragment into the pieces BPE works on, with the
// semantics of the Hugging Face / llama.cpp regexes, implemented as hand-written scanners.
#include <cstdint>
#include <string_view>
#include <vector>

#include "bonsai/tokenizer.h"

namespace bonsai::tok {

// A piece as a byte range of the input text.
struct Span {
    uint32_t begin;
    uint32_t end;
};

// Splits `text` (one raw-text fragment between special tokens; regex lookaheads see its end as the end
// of input) into consecutive, non-empty pieces covering all of it.
std::vector<Span> pretokenize(Tokenizer::PreTokenizer kind, std::string_view text);

}  // namespace bonsai::tok
