#include "model/hparams.h"

#include <cmath>
#include <string>

namespace bonsai::model_detail {

ArchKind arch_kind(const std::string& arch) {
    if (arch == "qwen3") return ArchKind::Qwen3;
    if (arch == "llama") return ArchKind::Llama;
    if (arch == "bitnet" || arch == "bitnet-b1.58" || arch == "bitnet-25" || arch == "bitnet-1.58") return ArchKind::Bitnet;
    throw Error("unsupported model architecture '" + arch + "' (supported: qwen3, llama, bitnet, bitnet-b1.58)");
}

namespace {

constexpr int64_t kMaxDim = int64_t(1) << 20;  // generous bound on any single dimension

// An integer key that may also be a per-layer array whose entries must all be equal.
std::optional<int64_t> get_uniform_int(const gguf::GgufFile& f, const std::string& key) {
    const gguf::KeyValue* kv = f.find(key);
    if (!kv) return std::nullopt;
    if (kv->type == gguf::ValueType::ARRAY) {
        const gguf::ArrayView& a = kv->arr;
        if (a.size() == 0) throw Error("metadata key '" + key + "' is an empty array");
        const int64_t first = a.int_at(0);
        for (uint64_t i = 1; i < a.size(); ++i)
            if (a.int_at(i) != first)
                throw Error("metadata key '" + key + "' varies per layer, which this engine does not support");
        return first;
    }
    return f.get_int(key);
}

int64_t require_int(const gguf::GgufFile& f, const std::string& key) {
    auto v = get_uniform_int(f, key);
    if (!v) throw Error("missing metadata key '" + key + "'");
    return *v;
}

void check_range(const std::string& what, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
        throw Error("metadata: " + what + " = " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
}

}  // namespace

HParams parse_hparams(const gguf::GgufFile& f) {
    HParams hp;
    hp.arch = f.architecture();
    const ArchKind kind = arch_kind(hp.arch);
    const std::string p = hp.arch + ".";

    hp.n_embd = require_int(f, p + "embedding_length");
    hp.n_layer = require_int(f, p + "block_count");
    hp.n_ff = require_int(f, p + "feed_forward_length");
    hp.n_head = require_int(f, p + "attention.head_count");
    check_range(p + "embedding_length", hp.n_embd, 1, kMaxDim);
    check_range(p + "block_count", hp.n_layer, 1, 4096);
    check_range(p + "feed_forward_length", hp.n_ff, 1, kMaxDim);
    check_range(p + "attention.head_count", hp.n_head, 1, 4096);
    hp.n_head_kv = get_uniform_int(f, p + "attention.head_count_kv").value_or(hp.n_head);
    check_range(p + "attention.head_count_kv", hp.n_head_kv, 1, hp.n_head);
    if (hp.n_head % hp.n_head_kv != 0)
        throw Error("metadata: head_count " + std::to_string(hp.n_head) + " is not a multiple of head_count_kv " +
                    std::to_string(hp.n_head_kv));
    if (auto v = f.get_int(p + "attention.key_length")) {
        hp.head_dim = *v;
    } else {
        if (hp.n_embd % hp.n_head != 0)
            throw Error("metadata: embedding_length is not a multiple of head_count and key_length is missing");
        hp.head_dim = hp.n_embd / hp.n_head;
    }
    check_range(p + "attention.key_length", hp.head_dim, 2, 4096);
    hp.head_dim_v = f.get_int(p + "attention.value_length").value_or(hp.head_dim);
    if (hp.head_dim_v != hp.head_dim)
        throw Error("metadata: value_length " + std::to_string(hp.head_dim_v) + " differs from key_length " +
                    std::to_string(hp.head_dim) + " (not supported)");
    hp.n_rot = f.get_int(p + "rope.dimension_count").value_or(hp.head_dim);
    check_range(p + "rope.dimension_count", hp.n_rot, 2, hp.head_dim);
    if (hp.n_rot % 2 != 0) throw Error("metadata: rope.dimension_count must be even");
    if (kind == ArchKind::Qwen3 && hp.n_rot != hp.head_dim)
        throw Error("metadata: qwen3 needs rope.dimension_count == key_length");

    hp.n_ctx_train = f.get_int(p + "context_length").value_or(0);
    if (hp.n_ctx_train <= 0) throw Error("missing or invalid metadata key '" + p + "context_length'");
    check_range(p + "context_length", hp.n_ctx_train, 1, int64_t(1) << 24);

    const double base = f.get_float(p + "rope.freq_base").value_or(10000.0);
    if (!(base > 1.0) || !std::isfinite(base)) throw Error("metadata: rope.freq_base must be > 1");
    hp.rope_freq_base = static_cast<float>(base);
    if (auto st = f.get_string(p + "rope.scaling.type")) {
        if (*st == "linear") {
            const double factor = f.get_float(p + "rope.scaling.factor").value_or(1.0);
            if (!(factor > 0.0) || !std::isfinite(factor)) throw Error("metadata: rope.scaling.factor must be > 0");
            hp.rope_freq_scale = static_cast<float>(1.0 / factor);
        } else if (*st != "none") {
            const double factor = f.get_float(p + "rope.scaling.factor").value_or(1.0);
            if (factor != 1.0 && factor != 0.0)
                throw Error("metadata: rope scaling type '" + *st + "' is not supported");
        }
    } else if (auto lin = f.get_float(p + "rope.scale_linear")) {
        if (!(*lin > 0.0)) throw Error("metadata: rope.scale_linear must be > 0");
        hp.rope_freq_scale = static_cast<float>(1.0 / *lin);
    }

    const auto eps = f.get_float(p + "attention.layer_norm_rms_epsilon");
    if (!eps) throw Error("missing metadata key '" + p + "attention.layer_norm_rms_epsilon'");
    if (!(*eps > 0.0) || *eps > 1.0) throw Error("metadata: layer_norm_rms_epsilon must be in (0, 1]");
    hp.rms_eps = static_cast<float>(*eps);

    const gguf::TensorInfo* emb = f.tensor("token_embd.weight");
    if (!emb) throw Error("missing tensor 'token_embd.weight'");
    hp.n_vocab = emb->ne[1];
    check_range("token_embd.weight rows (vocabulary size)", hp.n_vocab, 1, int64_t(1) << 24);
    if (auto vs = f.get_int(p + "vocab_size"); vs && *vs != hp.n_vocab)
        throw Error("metadata: " + p + "vocab_size = " + std::to_string(*vs) + " but token_embd.weight has " +
                    std::to_string(hp.n_vocab) + " rows");
    if (const gguf::ArrayView* toks = f.get_array("tokenizer.ggml.tokens");
        toks && static_cast<int64_t>(toks->size()) != hp.n_vocab)
        throw Error("metadata: tokenizer.ggml.tokens has " + std::to_string(toks->size()) +
                    " entries but token_embd.weight has " + std::to_string(hp.n_vocab) + " rows");

    switch (kind) {
        case ArchKind::Qwen3:
            hp.rope_type = RopeType::Neox;
            hp.qk_norm = true;
            hp.tied_output = f.tensor("output.weight") == nullptr;
            break;
        case ArchKind::Llama:
            hp.rope_type = RopeType::Norm;
            hp.tied_output = f.tensor("output.weight") == nullptr;
            break;
        case ArchKind::Bitnet: {
            hp.rope_type = RopeType::Neox;
            hp.sub_norms = true;
            if (hp.arch == "bitnet") {
                // llama.cpp's dialect: LM head is always token_embd; activation from metadata, SiLU default.
                hp.tied_output = true;
                const std::string act = f.get_string(p + "hidden_activation").value_or("silu");
                if (act == "silu" || act == "swish" || act == "swiglu") hp.ffn_act = FfnActivation::Silu;
                else if (act == "relu2" || act == "relu_sqr" || act == "relu_squared") hp.ffn_act = FfnActivation::ReluSquared;
                else throw Error("metadata: " + p + "hidden_activation '" + act + "' is not supported");
            } else {
                // Microsoft's fork: squared ReLU (the model was trained with it); output.weight if present.
                hp.ffn_act = FfnActivation::ReluSquared;
                hp.tied_output = f.tensor("output.weight") == nullptr;
            }
            break;
        }
    }
    return hp;
}

}  // namespace bonsai::model_detail
