// Token ids -> bytes (formats.md §5.7): token_piece(), decode().
#include <string>

#include "bonsai/tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_impl.h"

namespace bonsai {
namespace {

// "<0xNN>" -> NN, or -1.
int parse_byte_token(const std::string& t) {
    if (t.size() != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>') return -1;
    int v = 0;
    for (int k = 3; k < 5; ++k) {
        const char c = t[static_cast<size_t>(k)];
        int d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

}  // namespace

void Tokenizer::Impl::append_piece(int32_t id, bool render_special, std::string& out) const {
    check_id(id);
    const std::string& text = texts[static_cast<size_t>(id)];
    switch (types[static_cast<size_t>(id)]) {
        case TokenType::Control:
        case TokenType::Unknown:
            if (render_special) out += text;
            return;
        case TokenType::UserDefined:
            // Added tokens are stored as plain text in both vocab kinds.
            out += text;
            return;
        case TokenType::Byte: {
            const int b = parse_byte_token(text);
            if (b >= 0) {
                out += static_cast<char>(b);
                return;
            }
            break;
        }
        default:
            break;
    }
    if (model == Model::BytePairByteLevel) {
        tok::byte_level_decode(text, out);
        return;
    }
    // SentencePiece: U+2581 stands for a space.
    size_t i = 0;
    while (i < text.size()) {
        if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
            out += ' ';
            i += 3;
        } else {
            out += text[i++];
        }
    }
}

std::string Tokenizer::token_piece(int32_t id) const {
    std::string out;
    impl_->append_piece(id, true, out);
    return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool render_special) const {
    std::string out;
    for (int32_t id : ids) impl_->append_piece(id, render_special, out);
    return out;
}

}  // namespace bonsai
