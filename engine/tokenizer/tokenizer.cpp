// bonsai::Tokenizer: construction, encode() and the accessors.
#include "bonsai/tokenizer.h"

#include <cstdint>
#include <string>

#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/spm.h"
#include "tokenizer/tokenizer_impl.h"

namespace bonsai {

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_spec(VocabSpec spec) {
    return std::unique_ptr<Tokenizer>(new Tokenizer(tok::build_impl(std::move(spec))));
}

void Tokenizer::Impl::check_id(int32_t id) const {
    if (!valid_id(id)) {
        throw Error("token id " + std::to_string(id) + " is out of range (the vocabulary has " +
                    std::to_string(texts.size()) + " tokens)");
    }
}

namespace {

// "▁" (U+2581), SentencePiece's visible space.
constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

void encode_bpe(const Tokenizer::Impl& impl, std::string_view text, const std::vector<tok::Fragment>& frags,
                std::vector<int32_t>& out) {
    tok::BpeEncoder bpe(impl.token_to_id, impl.merge_ranks, impl.ignore_merges);
    std::string encoded;
    for (const tok::Fragment& f : frags) {
        if (f.token >= 0) {
            out.push_back(f.token);
            continue;
        }
        const std::string_view raw = text.substr(f.begin, f.end - f.begin);
        for (const tok::Span& s : tok::pretokenize(impl.pre, raw)) {
            encoded.clear();
            tok::byte_level_encode(raw.substr(s.begin, s.end - s.begin), encoded);
            bpe.encode(encoded, out);
        }
    }
}

void encode_spm(const Tokenizer::Impl& impl, std::string_view text, const std::vector<tok::Fragment>& frags,
                std::vector<int32_t>& out) {
    const tok::SpmVocab vocab{impl.token_to_id, impl.scores, impl.byte_ids, impl.unk};
    bool prev_special = true;  // the text start counts as "after a special token"
    std::string escaped;
    for (const tok::Fragment& f : frags) {
        if (f.token >= 0) {
            out.push_back(f.token);
            prev_special = true;
            continue;
        }
        escaped.clear();
        if (impl.add_space_prefix && prev_special) escaped += kSpmSpace;
        for (char c : text.substr(f.begin, f.end - f.begin)) {
            if (c == ' ') {
                escaped += kSpmSpace;
            } else {
                escaped += c;
            }
        }
        tok::spm_encode(vocab, escaped, out);
        prev_special = false;
    }
}

}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    const Impl& im = *impl_;
    // Byte offsets inside the tokenizer are 32-bit.
    if (text.size() >= UINT32_MAX) throw Error("text to tokenize is too large (" + std::to_string(text.size()) + " bytes)");
    std::vector<int32_t> out;
    if (add_special && im.add_bos && im.bos >= 0) out.push_back(im.bos);
    const std::vector<tok::Fragment> frags = tok::partition_special(im, text, parse_special);
    if (im.model == Model::SentencePiece) {
        encode_spm(im, text, frags, out);
    } else {
        encode_bpe(im, text, frags, out);
    }
    if (add_special && im.add_eos && im.eos >= 0) out.push_back(im.eos);
    return out;
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->texts.size()); }
Tokenizer::Model Tokenizer::model() const { return impl_->model; }
Tokenizer::PreTokenizer Tokenizer::pre_tokenizer() const { return impl_->pre; }
int32_t Tokenizer::bos_id() const { return impl_->bos; }
int32_t Tokenizer::eos_id() const { return impl_->eos; }
int32_t Tokenizer::eot_id() const { return impl_->eot; }
int32_t Tokenizer::pad_id() const { return impl_->pad; }
int32_t Tokenizer::unk_id() const { return impl_->unk; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }

bool Tokenizer::is_eog(int32_t id) const { return impl_->valid_id(id) && impl_->eog[static_cast<size_t>(id)] != 0; }

bool Tokenizer::is_control(int32_t id) const {
    return impl_->valid_id(id) && impl_->types[static_cast<size_t>(id)] == TokenType::Control;
}

TokenType Tokenizer::token_type(int32_t id) const {
    impl_->check_id(id);
    return impl_->types[static_cast<size_t>(id)];
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
    const int32_t id = tok::find_or(impl_->token_to_id, text);
    if (id < 0) return std::nullopt;
    return id;
}

const std::string& Tokenizer::token_text(int32_t id) const {
    impl_->check_id(id);
    return impl_->texts[static_cast<size_t>(id)];
}

}  // namespace bonsai
