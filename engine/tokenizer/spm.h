#pragma once
// SentencePiece-style BPE as llama.cpp runs it for "llama" vocabularies: symbols start as UTF-8
// characters, the adjacent pair whose concatenation is the vocab entry with the highest score merges
// first (ties: leftmost), and symbols without a token fall back to <0xNN> byte tokens.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/token_map.h"

namespace bonsai::tok {

struct SpmVocab {
    const TokenMap& vocab;                 // text -> id
    const std::vector<float>& scores;      // id -> score (one per token)
    const std::array<int32_t, 256>& byte_ids;  // byte -> its <0xNN> (or one-byte) token, -1 if none
    int32_t unk_id;                        // used for a byte without a token; -1 = drop it
};

// Appends the ids of `text` (already prefixed and with spaces escaped to U+2581) to `out`.
void spm_encode(const SpmVocab& v, std::string_view text, std::vector<int32_t>& out);

}  // namespace bonsai::tok
