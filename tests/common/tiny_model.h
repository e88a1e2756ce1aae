#pragma once
// Builds small random models in memory with gguf::GgufWriter, for tests that need an architecture or
// a broken file the fixtures do not have. Header-only; used by several test executables.
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bonsai/gguf.h"
#include "bonsai/tensor_type.h"

namespace bonsai::test {

struct TinySpec {
    std::string arch = "qwen3";
    TensorType type = TensorType::F32;  // type of the 2-D weights
    int64_t n_embd = 128, n_layer = 2, n_head = 2, n_head_kv = 1, head_dim = 64, n_ff = 256, n_vocab = 64;
    bool ternary = false;                     // weights in {-s, 0, +s} (BitNet-style)
    std::set<std::string> omit;               // tensor names to leave out
    std::map<std::string, std::vector<int64_t>> reshape;  // tensor name -> wrong shape to write
    std::set<std::string> omit_keys;          // metadata keys to leave out
    bool synthetic_flag = false;
    float layer_weight_scale = 1.0f;          // multiplies every per-layer 2-D weight (0: identity blocks)
    bool rope_freqs = false;                  // a rope_freqs.weight (Llama 3) of factors 1 .. 8
    float rope_linear_factor = 0.0f;          // > 0: rope.scaling.type "linear" with this factor
    std::map<std::string, TensorType> retype; // tensor name -> its type instead of `type` (mixed models)
};

inline std::vector<uint8_t> build_tiny_model(const TinySpec& s, uint32_t seed = 7) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    gguf::GgufWriter w;
    const std::string p = s.arch + ".";
    auto u32 = [&](const std::string& k, uint32_t v) {
        if (!s.omit_keys.count(k)) w.set_u32(k, v);
    };
    auto f32 = [&](const std::string& k, float v) {
        if (!s.omit_keys.count(k)) w.set_f32(k, v);
    };
    w.set_string("general.architecture", s.arch);
    if (s.synthetic_flag) w.set_bool("general.synthetic", true);
    u32(p + "context_length", 256);
    u32(p + "embedding_length", static_cast<uint32_t>(s.n_embd));
    u32(p + "block_count", static_cast<uint32_t>(s.n_layer));
    u32(p + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
    u32(p + "attention.head_count", static_cast<uint32_t>(s.n_head));
    u32(p + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
    u32(p + "attention.key_length", static_cast<uint32_t>(s.head_dim));
    u32(p + "attention.value_length", static_cast<uint32_t>(s.head_dim));
    f32(p + "rope.freq_base", 10000.0f);
    f32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
    w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(s.n_vocab - 1));
    if (s.rope_linear_factor > 0.0f) {
        w.set_string(p + "rope.scaling.type", "linear");
        w.set_f32(p + "rope.scaling.factor", s.rope_linear_factor);
    }
    if (s.rope_freqs) {  // rising factors as Llama 3's: the low-frequency pairs are slowed down most
        std::vector<float> ff(static_cast<size_t>(s.head_dim / 2));
        for (size_t i = 0; i < ff.size(); ++i) ff[i] = 1.0f + 7.0f * static_cast<float>(i) / static_cast<float>(ff.size());
        std::vector<uint8_t> bytes(ff.size() * 4);
        std::memcpy(bytes.data(), ff.data(), bytes.size());
        w.add_tensor("rope_freqs.weight", TensorType::F32, {static_cast<int64_t>(ff.size())}, std::move(bytes));
    }

    auto add = [&](const std::string& name, std::vector<int64_t> ne, TensorType type, float sd, bool norm) {
        if (s.omit.count(name)) return;
        if (auto it = s.reshape.find(name); it != s.reshape.end()) ne = it->second;
        int64_t n = 1;
        for (auto d : ne) n *= d;
        std::vector<float> v(static_cast<size_t>(n));
        for (auto& x : v) {
            x = norm ? 1.0f + 0.05f * nd(rng) : sd * nd(rng);
            if (!norm && s.ternary && ne.size() == 2 && name != "token_embd.weight" && name != "output.weight") {
                const float r = std::round(x / sd);
                x = sd * std::max(-1.0f, std::min(1.0f, r));
            }
        }
        int64_t full[4] = {1, 1, 1, 1};
        for (size_t i = 0; i < ne.size(); ++i) full[i] = ne[i];
        if (!norm && ne.size() == 2 && name.rfind("blk.", 0) == 0)
            for (auto& x : v) x *= s.layer_weight_scale;
        TensorType t = ne.size() == 2 ? type : TensorType::F32;
        if (auto it = s.retype.find(name); it != s.retype.end()) t = it->second;
        std::vector<uint8_t> bytes(tensor_nbytes(t, full));
        quantize(t, v.data(), bytes.data(), n);
        w.add_tensor(name, t, ne, std::move(bytes));
    };
    const int64_t E = s.n_embd, D = s.head_dim, QD = s.n_head * D, KD = s.n_head_kv * D, F = s.n_ff, V = s.n_vocab;
    const bool bitnet = s.arch.rfind("bitnet", 0) == 0;
    const TensorType emb_type = s.type == TensorType::I2_S ? TensorType::F16 : s.type;
    add("token_embd.weight", {E, V}, emb_type, 1.6f / std::sqrt(float(E)), false);
    add("output_norm.weight", {E}, TensorType::F32, 0, true);
    for (int64_t l = 0; l < s.n_layer; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        add(b + "attn_norm.weight", {E}, TensorType::F32, 0, true);
        add(b + "attn_q.weight", {E, QD}, s.type, 0.8f / std::sqrt(float(E)), false);
        add(b + "attn_k.weight", {E, KD}, s.type, 0.8f / std::sqrt(float(E)), false);
        add(b + "attn_v.weight", {E, KD}, s.type, 0.8f / std::sqrt(float(E)), false);
        add(b + "attn_output.weight", {QD, E}, s.type, 0.8f / std::sqrt(float(QD)), false);
        if (s.arch == "qwen3") {
            add(b + "attn_q_norm.weight", {D}, TensorType::F32, 0, true);
            add(b + "attn_k_norm.weight", {D}, TensorType::F32, 0, true);
        }
        if (bitnet) {
            add(b + "attn_sub_norm.weight", {QD}, TensorType::F32, 0, true);
            add(b + "ffn_sub_norm.weight", {F}, TensorType::F32, 0, true);
        }
        add(b + "ffn_norm.weight", {E}, TensorType::F32, 0, true);
        add(b + "ffn_gate.weight", {E, F}, s.type, 0.8f / std::sqrt(float(E)), false);
        add(b + "ffn_up.weight", {E, F}, s.type, 0.8f / std::sqrt(float(E)), false);
        add(b + "ffn_down.weight", {F, E}, s.type, 0.8f / std::sqrt(float(F)), false);
    }
    return w.to_bytes();
}

}  // namespace bonsai::test
