// Special-token partitioning before pre-tokenization (see tokenizer_impl.h), as llama.cpp's
// tokenizer_st_partition: for each special token (longest first) every raw fragment is searched for its
// text left to right and split around each occurrence.
#include <list>

#include "tokenizer/tokenizer_impl.h"

namespace bonsai::tok {

std::vector<Fragment> partition_special(const Tokenizer::Impl& impl, std::string_view text, bool parse_special) {
    std::list<Fragment> frags;
    if (text.empty()) return {};
    frags.push_back(Fragment{-1, 0, static_cast<uint32_t>(text.size())});
    for (const int32_t id : impl.special_ids) {
        const TokenType type = impl.types[static_cast<size_t>(id)];
        if (!parse_special && (type == TokenType::Control || type == TokenType::Unknown)) continue;
        const std::string& needle = impl.texts[static_cast<size_t>(id)];
        for (auto it = frags.begin(); it != frags.end(); ++it) {
            if (it->token >= 0) continue;
            // Search only this fragment's bytes.
            while (true) {
                const std::string_view hay = text.substr(it->begin, it->end - it->begin);
                const size_t at = hay.find(needle);
                if (at == std::string_view::npos) break;
                const uint32_t match_begin = it->begin + static_cast<uint32_t>(at);
                const uint32_t match_end = match_begin + static_cast<uint32_t>(needle.size());
                const uint32_t frag_end = it->end;
                if (match_begin > it->begin) {
                    // Keep the left part in place; insert the token and continue on the right part.
                    it->end = match_begin;
                    it = frags.insert(std::next(it), Fragment{id, match_begin, match_end});
                } else {
                    *it = Fragment{id, match_begin, match_end};
                }
                if (match_end >= frag_end) break;
                it = frags.insert(std::next(it), Fragment{-1, match_end, frag_end});
            }
        }
    }
    return {frags.begin(), frags.end()};
}

}  // namespace bonsai::tok
