// End-of-generation set and llama.cpp's text-based CONTROL overrides (formats.md §5.2). llama.cpp
// recognises these by token text because converters do not always write the ids.
#include <string_view>

#include "tokenizer/tokenizer_impl.h"

namespace bonsai::tok {
namespace {

// Texts that may serve as end-of-turn, in order of preference when tokenizer.ggml.eot_token_id is absent.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>",      "_<EOT>",     "<｜end▁of▁sentence｜>", "<end_of_utterance>",
};
// Every token with one of these texts ends generation.
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>", "<|endoftext|>",
    "<|eom_id|>", "<EOT>",      "_<EOT>",  "<|end_of_text|>", "<end_of_utterance>", "</s>",
};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>", "<file_sep>"};

// The id of the first text of `texts` present in the vocab, or -1.
template <size_t N>
int32_t first_present(const Tokenizer::Impl& impl, const std::string_view (&texts)[N]) {
    for (std::string_view t : texts) {
        const int32_t id = find_or(impl.token_to_id, t);
        if (id >= 0) return id;
    }
    return -1;
}

void force_control(Tokenizer::Impl& impl, int32_t id) {
    if (id >= 0) impl.types[static_cast<size_t>(id)] = TokenType::Control;
}

}  // namespace

void detect_special_tokens(Tokenizer::Impl& impl) {
    if (impl.eot < 0) {
        impl.eot = first_present(impl, kEotTexts);
        force_control(impl, impl.eot);
    }
    if (impl.eom < 0) {
        impl.eom = find_or(impl.token_to_id, "<|eom_id|>");
        force_control(impl, impl.eom);
    }
    if (impl.fim_pad < 0) impl.fim_pad = first_present(impl, kFimPadTexts);
    if (impl.fim_rep < 0) impl.fim_rep = first_present(impl, kFimRepTexts);
    if (impl.fim_sep < 0) impl.fim_sep = first_present(impl, kFimSepTexts);
    force_control(impl, impl.fim_pad);
    force_control(impl, impl.fim_rep);
    force_control(impl, impl.fim_sep);

    impl.eog.assign(impl.texts.size(), 0);
    for (std::string_view t : kEogTexts) {
        const int32_t id = find_or(impl.token_to_id, t);
        if (id < 0) continue;
        impl.eog[static_cast<size_t>(id)] = 1;
        force_control(impl, id);
    }
    for (int32_t id : {impl.eos, impl.eot, impl.eom, impl.fim_pad, impl.fim_rep, impl.fim_sep}) {
        if (id >= 0) impl.eog[static_cast<size_t>(id)] = 1;
    }
}

}  // namespace bonsai::tok
