#pragma once
// A naive float64 forward pass over dequantized weights, written from formats.md §3/§4 alone (it shares
// no code with engine/model). Used only by tests as an independent reference.
#include <cstdint>
#include <vector>

#include "bonsai/gguf.h"

namespace bonsai::test {

struct RefOptions {
    // Round K, V, Q and the softmax probabilities to F16 as llama.cpp's default attention does (the
    // engine's documented numerics). Off: pure float64 attention.
    bool f16_attention = true;
    // Round the input of every matmul the way llama.cpp's kernel for that weight type does (F16/BF16
    // rounding, Q8_0 blocks of 32, Q8_K blocks of 256, BitNet's per-row int8) and then multiply in float64.
    bool round_activations = true;
};

// Logits (n_tok × n_vocab, row-major) for `tokens` at positions 0..n_tok-1.
// Supports qwen3, llama, bitnet and bitnet-b1.58. Throws std::runtime_error on anything unexpected.
std::vector<double> reference_forward(const gguf::GgufFile& f, const std::vector<int32_t>& tokens,
                                      const RefOptions& opt = {});

}  // namespace bonsai::test
