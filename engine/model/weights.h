#pragma once
// The tensors a forward pass needs, looked up by name and checked against the hyper-parameters.
#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/matmul.h"
#include "model/weight_arena.h"
#include "bonsai/gguf.h"
#include "bonsai/model.h"

namespace bonsai::model_detail {

// One linear projection y = scale · (W·x).
struct Linear {
    cpu::Weight w;
    float scale = 1.0f;      // from an optional one-element "<name>.scale" tensor (bitnet)
    bool has_scale = false;
    std::string name;        // tensor name, for messages
    // Owner of w.data when the CPU backend repacked the tensor at load (w.layout != Native) or converted
    // it (a TQ1_0 file tensor held as TQ2_0, cpu::tq1_as_tq2); then the mapped GGUF bytes of this tensor
    // are no longer read by the matmul. Empty otherwise.
    std::shared_ptr<uint8_t[]> repacked;
};

struct LayerWeights {
    std::vector<float> attn_norm, q_norm, k_norm, attn_sub_norm, ffn_norm, ffn_sub_norm;
    Linear wq, wk, wv, wo, gate, up, down;
};

struct Weights {
    const gguf::TensorInfo* tok_embd = nullptr;  // [n_embd, n_vocab]
    std::vector<float> output_norm;
    Linear output;                               // LM head (token_embd when tied)
    std::vector<float> rope_freqs;               // optional per-dimension frequency divisors (llama)
    std::vector<LayerWeights> layers;
};

// Looks tensors up and checks their shapes, naming the tensor and both shapes on a mismatch.
class TensorBinder {
public:
    explicit TensorBinder(const gguf::GgufFile& f) : f_(f) {}
    // The tensor `name` with exactly the element counts `ne` (trailing dims 1). Throws if missing.
    const gguf::TensorInfo& require(const std::string& name, std::vector<int64_t> ne) const;
    // nullptr when absent; checks the shape when present.
    const gguf::TensorInfo* optional(const std::string& name, std::vector<int64_t> ne) const;
    // A 2-D weight W [n_in, n_out] usable by the CPU matmul (plus its ".scale" when `with_scale`).
    Linear linear(const std::string& name, int64_t n_in, int64_t n_out, bool with_scale = false) const;
    Linear linear_from(const gguf::TensorInfo& t) const;
    // A 1-D vector of n floats (norm weights), dequantized.
    std::vector<float> vec(const std::string& name, int64_t n) const;

private:
    const gguf::GgufFile& f_;
    mutable WeightArena arena_;  // memory of the repacked weights (repack_for_cpu)
};

std::string shape_str(const int64_t* ne, size_t n);

// Repacks l's weight into the CPU kernels' preferred layout when that pays (see weights.cpp), into
// memory from `arena`.
void repack_for_cpu(Linear& l, WeightArena& arena);

}  // namespace bonsai::model_detail
