// K-quants that appear in mixed GGUFs (formats.md §2.3.4-5): Q4_K (256 values, 144 bytes) and Q6_K
// (256 values, 210 bytes). Dequantization only; Bonsai never writes these types.
#include "quant/quant_detail.h"

namespace bonsai::quant {

namespace {
constexpr int kQK = 256;

// 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes s.
void scale_min_k4(int j, const uint8_t* s, int& sc, int& m) {
    if (j < 4) {
        sc = s[j] & 63;
        m = s[j + 4] & 63;
    } else {
        sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}
}  // namespace

void dequant_q4_k(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8_t* blk = src + b * 144;
        const float d = load_half(blk);
        const float dmin = load_half(blk + 2);
        const uint8_t* scales = blk + 4;
        const uint8_t* qs = blk + 16;
        float* y = dst + b * kQK;
        for (int c = 0; c < 4; ++c) {
            int sc = 0, m = 0;
            scale_min_k4(2 * c, scales, sc, m);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
            scale_min_k4(2 * c + 1, scales, sc, m);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
            const uint8_t* q = qs + 32 * c;
            for (int l = 0; l < 32; ++l) y[64 * c + l] = d1 * static_cast<float>(q[l] & 0x0f) - m1;
            for (int l = 0; l < 32; ++l) y[64 * c + 32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

void dequant_q6_k(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8_t* blk = src + b * 210;
        const float d = load_half(blk + 208);
        float* y = dst + b * kQK;
        for (int h = 0; h < 2; ++h) {
            const uint8_t* L = blk + 64 * h;
            const uint8_t* H = blk + 128 + 32 * h;
            const int8_t* S = reinterpret_cast<const int8_t*>(blk + 192 + 8 * h);
            float* yh = y + 128 * h;
            for (int l = 0; l < 32; ++l) {
                const int i = l / 16;
                const int q1 = ((L[l] & 0x0f) | (((H[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((L[l + 32] & 0x0f) | (((H[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((L[l] >> 4) | (((H[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((L[l + 32] >> 4) | (((H[l] >> 6) & 3) << 4)) - 32;
                yh[l] = d * static_cast<float>(S[i + 0]) * static_cast<float>(q1);
                yh[l + 32] = d * static_cast<float>(S[i + 2]) * static_cast<float>(q2);
                yh[l + 64] = d * static_cast<float>(S[i + 4]) * static_cast<float>(q3);
                yh[l + 96] = d * static_cast<float>(S[i + 6]) * static_cast<float>(q4);
            }
        }
    }
}

}  // namespace bonsai::quant
