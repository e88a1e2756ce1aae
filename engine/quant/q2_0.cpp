// The 2-bit sequential codec shared by Q2_0 (upstream id 42: 64 values, 18 bytes) and PrismML's PQ2_0
// (fork id 142, also the legacy group-128 "Q2_0": 128 values, 34 bytes) - bonsai-formats.md §2, §3.1.
// Layout: fp16 d, then 2-bit codes, four per byte, element j in bits 2*(j%4)..+1 of byte j/4.
// Value (q - 1) * d: 0 -> -d, 1 -> 0, 2 -> +d, 3 -> +2d (decodable, never produced by the quantizer).
// Quantizer (reference): d = amax, q = clamp(round(x / d) + 1, 0, 3).
#include "quant/quant_detail.h"

namespace bonsai::quant {

namespace {
template <int kBlock>
void dequant_2bit(const uint8_t* src, float* dst, int64_t n) {
    constexpr int kBytes = 2 + kBlock / 4;
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const uint8_t* blk = src + b * kBytes;
        const float d = load_half(blk);
        // Codes copied into a local first: read through blk (a byte pointer, which the float stores may
        // alias) they were reloaded per value and the loop stayed scalar (q1_0.cpp measured 23x).
        uint8_t codes[kBlock / 4];
        std::memcpy(codes, blk + 2, sizeof codes);
        float* y = dst + b * kBlock;
        for (int i = 0; i < kBlock / 4; ++i)
            for (int k = 0; k < 4; ++k) y[4 * i + k] = static_cast<float>(static_cast<int>((codes[i] >> (2 * k)) & 3u) - 1) * d;
    }
}

template <int kBlock>
void quant_2bit(const float* src, uint8_t* dst, int64_t n) {
    constexpr int kBytes = 2 + kBlock / 4;
    for (int64_t b = 0; b < n / kBlock; ++b) {
        const float* x = src + b * kBlock;
        uint8_t* blk = dst + b * kBytes;
        const float d = abs_max(x, kBlock);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        store_u16(blk, fp32_to_fp16(d));
        for (int j = 0; j < kBlock / 4; ++j) blk[2 + j] = 0;
        for (int j = 0; j < kBlock; ++j) {
            const int q = round_clamp(x[j] * id, -1, 2, 0) + 1;
            blk[2 + j / 4] = static_cast<uint8_t>(blk[2 + j / 4] | (q << (2 * (j % 4))));
        }
    }
}
}  // namespace

void dequant_q2_0(const uint8_t* src, float* dst, int64_t n) { dequant_2bit<64>(src, dst, n); }
void quant_q2_0(const float* src, uint8_t* dst, int64_t n) { quant_2bit<64>(src, dst, n); }
void dequant_pq2_0(const uint8_t* src, float* dst, int64_t n) { dequant_2bit<128>(src, dst, n); }
void quant_pq2_0(const float* src, uint8_t* dst, int64_t n) { quant_2bit<128>(src, dst, n); }

}  // namespace bonsai::quant
