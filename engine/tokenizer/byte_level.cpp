// GPT-2 bytes_to_unicode and its inverse (see byte_level.h).
#include "tokenizer/byte_level.h"

#include <array>
#include <cstdint>

#include "tokenizer/unicode.h"

namespace bonsai::tok {
namespace {

struct Tables {
    std::array<std::string, 256> encoded;  // byte -> UTF-8 of its code point
    std::array<uint32_t, 256> cp;          // byte -> code point
    Tables() {
        // Printable bytes keep their value; the other 68 get U+0100.. in increasing byte order.
        uint32_t next = 256;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            cp[b] = keep ? b : next++;
            append_utf8(encoded[b], cp[b]);
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

void byte_level_encode(std::string_view bytes, std::string& out) {
    const Tables& t = tables();
    for (unsigned char b : bytes) out += t.encoded[b];
}

int byte_level_byte(uint32_t cp) {
    // Inverse map: U+0021..U+00FF minus the remapped ones are themselves; U+0100..U+0143 are the 68 others.
    const Tables& t = tables();
    if (cp < 256) return t.cp[cp] == cp ? static_cast<int>(cp) : -1;
    if (cp < 256 + 68) {
        static const auto inverse = [] {
            std::array<int, 68> inv{};
            const Tables& tt = tables();
            for (int b = 0; b < 256; ++b) {
                if (tt.cp[b] >= 256) inv[tt.cp[b] - 256] = b;
            }
            return inv;
        }();
        return inverse[cp - 256];
    }
    return -1;
}

void byte_level_decode(std::string_view text, std::string& out) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    size_t i = 0;
    while (i < text.size()) {
        const Utf8Step s = utf8_step(p + i, text.size() - i);
        if (s.kind == Utf8Step::Valid) {
            const int b = byte_level_byte(s.cp);
            if (b >= 0) {
                out += static_cast<char>(b);
            } else {
                out.append(text.substr(i, s.len));
            }
            i += s.len;
        } else {
            const size_t len = s.kind == Utf8Step::Invalid ? s.len : text.size() - i;
            out.append(text.substr(i, len));
            i += len;
        }
    }
}

}  // namespace bonsai::tok
