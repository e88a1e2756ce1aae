// StreamingDetokenizer: emits only complete, valid UTF-8 (see tokenizer.h).
#include "bonsai/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace bonsai {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool render_special)
    : tok_(tokenizer), render_special_(render_special) {}

std::string StreamingDetokenizer::push(int32_t id) {
    tok_.impl_->append_piece(id, render_special_, pending_);
    // Emit every complete character; replace ill-formed subsequences; keep an incomplete tail.
    std::string out;
    const auto* p = reinterpret_cast<const unsigned char*>(pending_.data());
    size_t i = 0;
    while (i < pending_.size()) {
        const tok::Utf8Step s = tok::utf8_step(p + i, pending_.size() - i);
        if (s.kind == tok::Utf8Step::Incomplete) break;
        if (s.kind == tok::Utf8Step::Valid) {
            out.append(pending_, i, s.len);
        } else {
            out += "\xEF\xBF\xBD";
        }
        i += s.len;
    }
    pending_.erase(0, i);
    return out;
}

std::string StreamingDetokenizer::flush() {
    std::string out = sanitize_utf8(pending_);
    pending_.clear();
    return out;
}

}  // namespace bonsai
