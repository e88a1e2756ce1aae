// Attaches the file's tokenizer to a Model and answers the vocabulary questions a Session asks.
#include "bonsai/gguf.h"
#include "bonsai/model.h"
#include "bonsai/tokenizer.h"
#include "model/model_impl.h"
#include "model/self_test_text.h"
#include "model/token_text.h"

namespace bonsai {

void Model::attach_tokenizer() {
    impl_->tokenizer.reset();
    if (!impl_->file->find("tokenizer.ggml.tokens")) return;  // token-id-only file (tests, synth without vocab)
    try {
        impl_->tokenizer = Tokenizer::from_gguf(*impl_->file);
    } catch (const Error& e) {
        throw Error(impl_->file->path() + ": tokenizer: " + e.what());
    }
}

namespace model_detail {

std::string token_text(const Model& model, int32_t id) {
    const Tokenizer* t = model.tokenizer();
    if (!t || t->is_control(id)) return {};
    return t->token_piece(id);
}

bool token_is_eog(const Model& model, int32_t id) {
    if (const Tokenizer* t = model.tokenizer()) return t->is_eog(id);
    for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
        if (auto v = model.file().get_int(key); v && *v == id) return true;
    }
    return false;
}

std::vector<int32_t> self_test_tokens(const Model& model) {
    const Tokenizer* t = model.tokenizer();
    if (!t) return {};
    return t->encode(kSelfTestPassage, true, false);
}

}  // namespace model_detail
}  // namespace bonsai
