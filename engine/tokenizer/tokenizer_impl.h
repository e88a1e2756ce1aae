#pragma once
// The state behind bonsai::Tokenizer (engine-internal). Built once by build_impl(), then read-only.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bonsai/tokenizer.h"
#include "tokenizer/token_map.h"

namespace bonsai {

struct Tokenizer::Impl {
    Model model = Model::BytePairByteLevel;
    PreTokenizer pre = PreTokenizer::Default;
    bool ignore_merges = false;     // LLAMA3 family: a pre-token that is a vocab entry maps directly
    bool add_space_prefix = false;  // SentencePiece: prefix raw text (at start / after a special) with a space
    bool add_bos = false;
    bool add_eos = false;

    std::vector<std::string> texts;  // id -> stored text
    std::vector<float> scores;       // id -> score (0 when the file has none)
    std::vector<TokenType> types;    // id -> type, after the CONTROL overrides
    tok::TokenMap token_to_id;       // text -> id
    tok::TokenMap merge_ranks;       // "A B" -> rank (gpt2)
    std::array<int32_t, 256> byte_ids{};  // SentencePiece byte fallback: byte -> token, -1 if none

    // Tokens the special-token partition looks for (CONTROL, USER_DEFINED, UNKNOWN with non-empty
    // text), longest text first, ties by id.
    std::vector<int32_t> special_ids;
    std::vector<uint8_t> eog;  // id -> 1 if end-of-generation

    int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, sep = -1, pad = -1, mask = -1;
    int32_t fim_pad = -1, fim_rep = -1, fim_sep = -1;

    bool valid_id(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < texts.size(); }
    // Throws bonsai::Error naming the id when it is out of range.
    void check_id(int32_t id) const;
    // Appends what `id` decodes to (see Tokenizer::decode for the rules).
    void append_piece(int32_t id, bool render_special, std::string& out) const;
};

namespace tok {

// Validates `spec` and builds the tokenizer state (throws bonsai::Error).
std::unique_ptr<Tokenizer::Impl> build_impl(VocabSpec spec);

// Marks end-of-generation tokens and applies llama.cpp's text-based CONTROL overrides (formats.md §5.2).
void detect_special_tokens(Tokenizer::Impl& impl);

// A piece of the input after special-token partitioning: a token (token >= 0) or raw text [begin, end).
struct Fragment {
    int32_t token;
    uint32_t begin;
    uint32_t end;
};

// Splits `text` at occurrences of special tokens (formats.md §5.4): longest token text first, each
// occurrence left to right in the remaining raw fragments. CONTROL/UNKNOWN tokens only when
// parse_special; USER_DEFINED always.
std::vector<Fragment> partition_special(const Tokenizer::Impl& impl, std::string_view text, bool parse_special);

}  // namespace tok
}  // namespace bonsai
