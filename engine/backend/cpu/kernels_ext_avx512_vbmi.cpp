// AVX-512 VBMI kernel for TQ1_0 weights (kernels_ext.h), the counterpart of kernels_ext_avx512.cpp's
// tq1_tile on CPUs with VBMI. This file alone is compiled with -mavx512vbmi (CMakeLists.txt);
// ext_avx512_kernels() hands it out only when has_avx512_vbmi().
//
// Why: a TQ1_0 byte packs 5 base-3 digits, and the arithmetic decoding (p = 3p mod 256, then two
// compares and two masked moves per digit) kept decode compute-bound at ~48 % of the memory roofline
// (Zen 5, 2 threads). Here digit n of every byte is looked up in a 256-entry table of that digit:
// two vpermi2b over the table's halves (7-bit indices) and a blend on the byte's top bit, three
// operations per digit position for 64 bytes instead of six. The activations are pack_tq1's, the sums
// exact, so results equal the scalar kernel up to float summation order.
#include "backend/cpu/kernels_ext.h"
#include "backend/cpu/ternary_decode.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && defined(__AVX512VBMI__)
#include <immintrin.h>

#include "backend/cpu/tq1_tile_avx512.h"

namespace bonsai::cpu::detail {
namespace {

constexpr int kMaxTile = 4;  // tokens per register tile

// Digit n (0..4) of every byte value b: ((b · 3^n mod 256) · 3) >> 8 (formats.md 2.3.8), as 4 vectors of
// 64 entries each (entries 0-63, 64-127, 128-191, 192-255).
struct TritTables {
    alignas(64) uint8_t t[5][256];
    TritTables() {
        for (int n = 0; n < 5; ++n)
            for (int b = 0; b < 256; ++b) t[n][b] = static_cast<uint8_t>(trit(static_cast<uint8_t>(b), n));
    }
};

// Digit policy of tq1_row (tq1_tile_avx512.h): the tables' 20 vectors stay in registers across rows.
struct Tq1TableDigits {
    __m512i tab[5][4];
    __m512i v;
    __mmask64 high = 0;
    int n = 0;
    explicit Tq1TableDigits(const TritTables& tt) {
        for (int i = 0; i < 5; ++i)
            for (int q = 0; q < 4; ++q) tab[i][q] = _mm512_load_si512(tt.t[i] + 64 * q);
    }
    void start(__m512i bytes) {
        v = bytes;
        high = _mm512_movepi8_mask(v);  // byte values 128..255 take the upper half-table
        n = 0;
    }
    __m512i next() {
        const __m512i lo = _mm512_permutex2var_epi8(tab[n][0], v, tab[n][1]);
        const __m512i hi = _mm512_permutex2var_epi8(tab[n][2], v, tab[n][3]);
        ++n;
        return _mm512_mask_blend_epi8(high, lo, hi);
    }
};

}  // namespace

void tq1_0_vbmi(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    static const TritTables tables;
    const Packed p = pack_tq1(a);
    const int64_t nb = w.n_in / 256, n_out = w.n_out;
    const size_t row_bytes = static_cast<size_t>(nb) * 54;
    for_each_tile<kMaxTile>(o0, o1, a.n_rows(), [&](auto nt, int64_t ob, int64_t oe, int64_t t0) {
        constexpr int NT = decltype(nt)::value;
        const uint8_t* xa[NT];
        for (int t = 0; t < NT; ++t) xa[t] = p.row(t0 + t);
        Tq1TableDigits d(tables);
        for (int64_t o = ob; o < oe; ++o) {
            float r[NT];
            tq1_row<NT>(d, w.data + row_bytes * static_cast<size_t>(o), nb, xa, r);
            for (int t = 0; t < NT; ++t) y[(t0 + t) * n_out + o] = r[t];
        }
    });
}

}  // namespace bonsai::cpu::detail
#else
#include "bonsai/error.h"
namespace bonsai::cpu::detail {
// Not an x86 build: has_avx512_vbmi() is false there, so this is never called.
void tq1_0_vbmi(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: the TQ1_0 table kernel needs AVX-512 VBMI");
}
}  // namespace bonsai::cpu::detail
#endif
