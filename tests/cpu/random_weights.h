#pragma once
// Random native weights for the CPU benchmarks (bonsai-bench-prefill, bonsai-bench-decode): random code
// bytes with small random fp16 scales, valid blocks of every type the benchmarks take. Not a test helper:
// the tests build their weights in quantized_weights.h, from known values.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "bonsai/tensor_type.h"

namespace bonsai::test {

// Random native blocks: random code bytes, then every block's fp16 scale set to a small random value.
inline std::vector<uint8_t> random_weight(TensorType type, int64_t n_in, int64_t n_out, std::mt19937& rng) {
    const int64_t ne[4] = {n_in, n_out, 1, 1};
    std::vector<uint8_t> buf(tensor_nbytes(type, ne));
    for (size_t i = 0; i + 4 <= buf.size(); i += 4) {
        const uint32_t r = rng();
        std::memcpy(&buf[i], &r, 4);
    }
    size_t bs = 0, off = 0, per = 0;  // block bytes, scale offset, elements per block
    switch (type) {
        case TensorType::Q1_0: bs = 18, off = 0, per = 128; break;
        case TensorType::Q2_0: bs = 18, off = 0, per = 64; break;
        case TensorType::TQ2_0: bs = 66, off = 64, per = 256; break;
        case TensorType::TQ1_0: bs = 54, off = 52, per = 256; break;
        default: std::fprintf(stderr, "unsupported type\n"); std::exit(2);
    }
    std::uniform_real_distribution<float> ud(0.005f, 0.02f);
    const size_t nb = static_cast<size_t>(n_in * n_out) / per;
    for (size_t b = 0; b < nb; ++b) {
        const uint16_t h = fp32_to_fp16(ud(rng));
        std::memcpy(&buf[b * bs + off], &h, 2);
    }
    if (type == TensorType::TQ1_0)  // trit bytes must stay below 243 (3^5) to be valid codes
        for (size_t b = 0; b < nb; ++b)
            for (int j = 0; j < 52; ++j) buf[b * bs + static_cast<size_t>(j)] %= 243;
    return buf;
}

}  // namespace bonsai::test
