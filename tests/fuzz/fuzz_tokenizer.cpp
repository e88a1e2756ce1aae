// Fuzz target: the tokenizers (Tokenizer::encode / decode / StreamingDetokenizer).
//
// The four fixture vocabularies (fixtures/vocab: qwen2, llama-bpe and gpt-2 byte-level BPE, llama-spm
// SentencePiece) are built once. Input: byte 0 picks the vocabulary (low 2 bits) and the flags
// (bit 2: parse_special, bit 3: add_special); the remaining bytes are the text.
//
// Invariants (tokenizer.h): every id is in [0, n_vocab); for byte-level vocabs decode(encode(bytes))
// == bytes for ANY byte string (render_special on when special tokens were parsed); for every vocab
// the streamed detokenization equals sanitize_utf8(decode(ids)) and is valid UTF-8 (checked with an
// independent validator), and sanitize_utf8 leaves valid UTF-8 unchanged.
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/error.h"
#include "bonsai/gguf.h"
#include "bonsai/tokenizer.h"
#include "fuzz_common.h"

namespace {

constexpr const char* kTarget = "tokenizer";
constexpr size_t kMaxText = 8192;  // longer inputs are cut (BPE is superlinear; keeps each run short)

struct Vocabs {
    std::array<std::unique_ptr<bonsai::Tokenizer>, 4> tok;
    Vocabs() {
        const char* names[4] = {"ggml-vocab-qwen2.gguf", "ggml-vocab-llama-bpe.gguf", "ggml-vocab-llama-spm.gguf",
                                "ggml-vocab-gpt-2.gguf"};
        for (size_t i = 0; i < 4; ++i) {
            const std::string path = bonsai::fuzz::fixtures_dir() + "/vocab/" + names[i];
            try {
                auto f = bonsai::gguf::GgufFile::open(path);
                tok[i] = bonsai::Tokenizer::from_gguf(*f);
            } catch (const std::exception& e) {
                bonsai::fuzz::fail(kTarget, "cannot load fixture vocab " + path + " (set BONSAI_FIXTURES_DIR): " + e.what());
            }
        }
    }
};

const Vocabs& vocabs() {
    static const Vocabs v;  // built on first use, kept for the process
    return v;
}

std::string hex_prefix(std::string_view s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < s.size() && i < 48; ++i) {
        out += digits[static_cast<unsigned char>(s[i]) >> 4];
        out += digits[static_cast<unsigned char>(s[i]) & 15];
    }
    return out;
}

}  // namespace

int bonsai_fuzz_tokenizer(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const unsigned sel = data[0];
    const bool parse_special = (sel & 4) != 0;
    const bool add_special = (sel & 8) != 0;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    if (text.size() > kMaxText) text = text.substr(0, kMaxText);
    const bonsai::Tokenizer& tok = *vocabs().tok[sel & 3];
    const std::string which = "vocab " + std::to_string(sel & 3) + (parse_special ? " parse_special" : "") +
                              (add_special ? " add_special" : "") + ", text " + hex_prefix(text);

    std::vector<int32_t> ids;
    try {
        ids = tok.encode(text, add_special, parse_special);
    } catch (const std::exception& e) {
        bonsai::fuzz::fail(kTarget, which + ": encode threw: " + e.what());
    }
    for (int32_t id : ids)
        BONSAI_FUZZ_CHECK(kTarget, id >= 0 && id < tok.n_vocab(), which + ": id " + std::to_string(id) + " out of range");

    const bool render_special = parse_special;
    const std::string decoded = tok.decode(ids, render_special);
    if (tok.model() == bonsai::Tokenizer::Model::BytePairByteLevel && !add_special)
        BONSAI_FUZZ_CHECK(kTarget, decoded == text, which + ": decode(encode(text)) != text, got " + hex_prefix(decoded));

    bonsai::StreamingDetokenizer stream(tok, render_special);
    std::string streamed;
    for (int32_t id : ids) streamed += stream.push(id);
    streamed += stream.flush();
    const std::string sanitized = bonsai::sanitize_utf8(decoded);
    BONSAI_FUZZ_CHECK(kTarget, streamed == sanitized, which + ": streamed text != sanitize_utf8(decode(ids))");
    BONSAI_FUZZ_CHECK(kTarget, bonsai::fuzz::is_valid_utf8(sanitized), which + ": sanitize_utf8 output is not valid UTF-8");
    if (bonsai::fuzz::is_valid_utf8(decoded))
        BONSAI_FUZZ_CHECK(kTarget, sanitized == decoded, which + ": sanitize_utf8 changed valid UTF-8");
    return 0;
}

BONSAI_FUZZ_ENTRY(bonsai_fuzz_tokenizer)
