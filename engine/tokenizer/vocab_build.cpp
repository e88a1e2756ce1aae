// Validates a VocabSpec and builds Tokenizer::Impl (defaults as llama.cpp's llama_vocab::load).
#include <algorithm>
#include <limits>
#include <string>

#include "tokenizer/tokenizer_impl.h"

namespace bonsai::tok {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("invalid tokenizer metadata: " + what); }

// Pre-tokenizer names (tokenizer.ggml.pre) llama.cpp maps to each kind we implement.
struct PreName {
    std::string_view name;
    Tokenizer::PreTokenizer kind;
};
constexpr PreName kPreNames[] = {
    {"default", Tokenizer::PreTokenizer::Default},
    {"gpt-2", Tokenizer::PreTokenizer::Gpt2},
    {"phi-2", Tokenizer::PreTokenizer::Gpt2},
    {"mellum", Tokenizer::PreTokenizer::Gpt2},
    {"qwen2", Tokenizer::PreTokenizer::Qwen2},
    {"deepseek-r1-qwen", Tokenizer::PreTokenizer::Qwen2},
    {"kormo", Tokenizer::PreTokenizer::Qwen2},
    {"f2llmv2", Tokenizer::PreTokenizer::Qwen2},
    {"llama3", Tokenizer::PreTokenizer::Llama3},
    {"llama-v3", Tokenizer::PreTokenizer::Llama3},
    {"llama-bpe", Tokenizer::PreTokenizer::Llama3},
    {"falcon3", Tokenizer::PreTokenizer::Llama3},
    {"falcon-h1", Tokenizer::PreTokenizer::Llama3},
    {"pixtral", Tokenizer::PreTokenizer::Llama3},
    {"midm-2.0", Tokenizer::PreTokenizer::Llama3},
    {"lfm2", Tokenizer::PreTokenizer::Llama3},
    {"jina-v5-nano", Tokenizer::PreTokenizer::Llama3},
};

// An explicit special-token id must name a token; an absent one takes `fallback` if that exists.
int32_t special_id(const std::optional<int64_t>& v, int32_t fallback, size_t n, const char* key) {
    if (!v) return (fallback >= 0 && static_cast<size_t>(fallback) < n) ? fallback : -1;
    if (*v < 0 || static_cast<uint64_t>(*v) >= n) {
        fail(std::string("tokenizer.ggml.") + key + " = " + std::to_string(*v) + " is not a token id (the vocabulary has " +
             std::to_string(n) + " tokens)");
    }
    return static_cast<int32_t>(*v);
}

}  // namespace

std::unique_ptr<Tokenizer::Impl> build_impl(VocabSpec spec) {
    auto impl = std::make_unique<Tokenizer::Impl>();
    const size_t n = spec.tokens.size();
    if (n == 0) fail("tokenizer.ggml.tokens is empty");
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) fail("too many tokens");

    if (spec.model == "gpt2") {
        impl->model = Tokenizer::Model::BytePairByteLevel;
    } else if (spec.model == "llama") {
        impl->model = Tokenizer::Model::SentencePiece;
    } else if (spec.model.empty()) {
        fail("tokenizer.ggml.model is missing");
    } else {
        fail("tokenizer.ggml.model '" + spec.model + "' is not supported (only 'gpt2' and 'llama')");
    }
    if (!spec.scores.empty() && spec.scores.size() < n) {
        fail("tokenizer.ggml.scores has " + std::to_string(spec.scores.size()) + " entries but tokenizer.ggml.tokens has " +
             std::to_string(n));
    }
    if (!spec.types.empty() && spec.types.size() < n) {
        fail("tokenizer.ggml.token_type has " + std::to_string(spec.types.size()) +
             " entries but tokenizer.ggml.tokens has " + std::to_string(n));
    }

    impl->texts = std::move(spec.tokens);
    impl->scores.assign(n, 0.0f);
    if (!spec.scores.empty()) std::copy(spec.scores.begin(), spec.scores.begin() + static_cast<ptrdiff_t>(n), impl->scores.begin());
    impl->types.assign(n, TokenType::Normal);
    for (size_t i = 0; i < spec.types.size() && i < n; ++i) {
        const int32_t t = spec.types[i];
        // 0 (undefined) and values outside the enum are treated as ordinary tokens.
        impl->types[i] = (t >= 1 && t <= 6) ? static_cast<TokenType>(t) : TokenType::Normal;
    }
    impl->token_to_id.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        auto [it, inserted] = impl->token_to_id.emplace(impl->texts[i], static_cast<int32_t>(i));
        if (!inserted) {
            fail("token text '" + impl->texts[i] + "' appears twice (ids " + std::to_string(it->second) + " and " +
                 std::to_string(i) + ")");
        }
    }

    int32_t default_bos = -1, default_eos = -1, default_unk = -1;
    if (impl->model == Tokenizer::Model::BytePairByteLevel) {
        const std::string pre = spec.pre.value_or("default");
        auto it = std::find_if(std::begin(kPreNames), std::end(kPreNames), [&](const PreName& p) { return p.name == pre; });
        if (it == std::end(kPreNames)) fail("tokenizer.ggml.pre '" + pre + "' is not a supported pre-tokenizer");
        impl->pre = it->kind;
        impl->ignore_merges = impl->pre == Tokenizer::PreTokenizer::Llama3;
        impl->add_bos = impl->pre == Tokenizer::PreTokenizer::Llama3;
        impl->merge_ranks.reserve(spec.merges.size());
        for (size_t i = 0; i < spec.merges.size(); ++i) {
            // The first occurrence of a rule keeps its rank (llama.cpp's bpe_ranks.emplace).
            impl->merge_ranks.emplace(std::move(spec.merges[i]), static_cast<int32_t>(i));
        }
        default_bos = default_eos = 11;  // llama.cpp's preset for gpt2 vocabs without the keys
    } else {
        impl->pre = Tokenizer::PreTokenizer::Default;
        impl->add_bos = true;
        impl->add_space_prefix = spec.add_space_prefix.value_or(true);
        default_bos = 1;
        default_eos = 2;
        default_unk = 0;
    }
    if (spec.add_bos) impl->add_bos = *spec.add_bos;
    impl->add_eos = spec.add_eos.value_or(false);

    impl->bos = special_id(spec.bos_id, default_bos, n, "bos_token_id");
    impl->eos = special_id(spec.eos_id, default_eos, n, "eos_token_id");
    impl->eot = special_id(spec.eot_id, -1, n, "eot_token_id");
    impl->eom = special_id(spec.eom_id, -1, n, "eom_token_id");
    impl->unk = special_id(spec.unk_id, default_unk, n, "unknown_token_id");
    impl->sep = special_id(spec.sep_id, -1, n, "seperator_token_id");
    impl->pad = special_id(spec.pad_id, -1, n, "padding_token_id");
    impl->mask = special_id(spec.mask_id, -1, n, "mask_token_id");
    impl->fim_pad = special_id(spec.fim_pad_id, -1, n, "fim_pad_token_id");
    impl->fim_rep = special_id(spec.fim_rep_id, -1, n, "fim_rep_token_id");
    impl->fim_sep = special_id(spec.fim_sep_id, -1, n, "fim_sep_token_id");
    if (impl->add_bos && impl->bos < 0) fail("add_bos_token is set but the vocabulary has no BOS token");
    if (impl->add_eos && impl->eos < 0) fail("add_eos_token is set but the vocabulary has no EOS token");

    detect_special_tokens(*impl);

    for (size_t i = 0; i < n; ++i) {
        const TokenType t = impl->types[i];
        if ((t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown) && !impl->texts[i].empty()) {
            impl->special_ids.push_back(static_cast<int32_t>(i));
        }
    }
    std::stable_sort(impl->special_ids.begin(), impl->special_ids.end(), [&](int32_t a, int32_t b) {
        return impl->texts[static_cast<size_t>(a)].size() > impl->texts[static_cast<size_t>(b)].size();
    });

    impl->byte_ids.fill(-1);
    if (impl->model == Tokenizer::Model::SentencePiece) {
        static const char* hex = "0123456789ABCDEF";
        for (int b = 0; b < 256; ++b) {
            const std::string name = std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
            int32_t id = find_or(impl->token_to_id, name);
            if (id < 0) id = find_or(impl->token_to_id, std::string(1, static_cast<char>(b)));
            impl->byte_ids[static_cast<size_t>(b)] = id;
        }
    }
    return impl;
}

}  // namespace bonsai::tok
