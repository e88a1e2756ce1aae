#pragma once
// Scalar decoding of the base-3 packed ternary blocks (formats.md 2.3.8, bonsai-formats.md 3.2), shared by
// the reference kernels (matmul.cpp) and the load-time conversion of TQ1_0 to TQ2_0 (repack.cpp).
#include <cstdint>

namespace bonsai::cpu::detail {

// Digit n (0 = most significant) of a packed byte b: ((b · 3^n mod 256) · 3) >> 8, the first product in
// 8-bit wrap-around arithmetic.
inline int trit(uint8_t b, int n) {
    static constexpr uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
    const uint8_t q = static_cast<uint8_t>(b * pow3[n]);
    return (static_cast<uint16_t>(q) * 3) >> 8;
}

// TQ1_0 block (54 bytes) -> its 256 values in {-1, 0, 1}, in element order.
inline void decode_tq1_0(const uint8_t* blk, int8_t* v) {
    const uint8_t* qs = blk;
    const uint8_t* qh = blk + 48;
    for (int n = 0; n < 5; ++n)
        for (int m = 0; m < 32; ++m) v[32 * n + m] = static_cast<int8_t>(trit(qs[m], n) - 1);
    for (int n = 0; n < 5; ++n)
        for (int m = 0; m < 16; ++m) v[160 + 16 * n + m] = static_cast<int8_t>(trit(qs[32 + m], n) - 1);
    for (int n = 0; n < 4; ++n)
        for (int m = 0; m < 4; ++m) v[240 + 4 * n + m] = static_cast<int8_t>(trit(qh[m], n) - 1);
}

}  // namespace bonsai::cpu::detail
