// AMX (Intel Advanced Matrix Extensions) int8 prompt kernels. This file alone is compiled with
// -mamx-tile -mamx-int8 (CMakeLists.txt); its kernels run only where cpu_features says amx_kernels_enabled()
// (AMX granted to this process by the kernel, and not switched off).
//
// Why: a VNNI core does 64 int8 multiply-adds per vpdpbusd, and the prompt kernels reach ~60 of them per
// cycle; one TDPBSSD multiplies a 16 × 32 int8 tile by a 32 × 16 one (8,192 multiply-adds) in ~8 cycles on
// the tile unit. The activations are llama.cpp's Q8_0 blocks (one scale per 32 values), so the integer
// sums cannot run over more than one block: each block's 16 × 16 int32 tile goes through a float epilogue
// (convert, times the token's block scale, added up per 128-weight group, whose weight scale is applied
// once). That epilogue, not the tile unit, bounds these kernels; it still leaves them several times the
// VNNI tiles' rate. Sums are exact integers, so the results equal the other kernels' up to float
// summation order.
//
// Tiles (palette 1): tmm0-3 the int32 results C[i][j] of token tile i (16 tokens) and row tile j (16 weight
// rows) at 2i + j, tmm4-5 the activations A[i] (16 tokens × 32 int8, one Q8_0 block of each, loaded
// straight from the Activations rows), tmm6-7 the weights B[j] (8 rows of 16 × 4 int8: row g holds weights
// 4g .. 4g + 3 of the block for each of the 16 weight rows, which is how TDPBSSD pairs 4 consecutive K
// values of A with a column of B).
#include "backend/cpu/aligned_buf.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/r16l_layout.h"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace bonsai::cpu::detail {
namespace {

constexpr int64_t kQ8Block = 36;  // Activations' Q8_0 block (matmul.cpp): f32 d, int8 q[32]
constexpr int64_t kBTileBytes = 512;  // one block's B tile: 8 rows × 64 bytes

// ldtilecfg's 64-byte operand.
struct alignas(64) TileConfig {
    uint8_t palette = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};

// Tiles for n0 tokens in token tile 0 and n1 (0 = none) in token tile 1. A tile a kernel does not use
// stays unconfigured (rows and colsb 0).
void configure(int n0, int n1) {
    TileConfig c;
    const int n[2] = {n0, n1};
    for (int i = 0; i < 2; ++i) {
        if (n[i] == 0) continue;
        for (int j = 0; j < 2; ++j) {
            c.rows[2 * i + j] = static_cast<uint8_t>(n[i]);
            c.colsb[2 * i + j] = 64;
        }
        c.rows[4 + i] = static_cast<uint8_t>(n[i]);
        c.colsb[4 + i] = 32;
    }
    for (int j = 0; j < 2; ++j) {
        c.rows[6 + j] = 8;
        c.colsb[6 + j] = 64;
    }
    // GCC 12 drops the stores above, keeping only the palette byte, unless it is told that the whole
    // object is read (seen in the disassembly: the tiles then stayed unconfigured and the first tile
    // instruction raised #UD).
    __asm__ volatile("" : : "m"(c) : "memory");
    _tile_loadconfig(&c);
}

// Row block rb of an R16L weight (repack.h) as nb B tiles at `out`. R16L vector (rb, b) holds, in dword r,
// row r's 32 sign bits of block b: quad g (weights 4g .. 4g + 3) is nibble g / 4 of byte g % 4, bit p =
// weight 4g + p. A lookup of the nibble in 16 dwords of ±1 bytes (vpermd) gives B row g for all 16 rows.
void r16l_b_tiles(const R16LView<const uint8_t>& view, int64_t rb, uint8_t* out) {
    alignas(64) int32_t lut_v[16];
    for (int n = 0; n < 16; ++n) {
        uint32_t v = 0;
        for (int p = 0; p < 4; ++p) v |= static_cast<uint32_t>((n >> p) & 1 ? 0x01 : 0xFF) << (8 * p);
        lut_v[n] = static_cast<int32_t>(v);
    }
    const __m512i lut = _mm512_load_si512(lut_v);
    for (int64_t b = 0; b < view.nb; ++b, out += kBTileBytes) {
        const __m512i v = _mm512_loadu_si512(view.codes(rb, b));
#pragma GCC unroll 8
        for (int g = 0; g < 8; ++g) {
            const __m512i nib = _mm512_srli_epi32(v, static_cast<unsigned>(8 * (g % 4) + 4 * (g / 4)));
            _mm512_store_si512(out + 64 * g, _mm512_permutexvar_epi32(nib, lut));
        }
    }
}

// A group of 4 blocks (128 weights: one Q1_0 weight scale) is multiplied first, its 16 C tiles stored
// (16 KiB), and only then converted: the tile stores drain while the next tiles are computed instead of
// stalling the loads that read them back (one block at a time, tile store then epilogue, ran at ~80
// multiply-adds per cycle).
struct GroupTiles {
    alignas(64) int32_t c[4][4][16][16];  // [block of the group][C tile][token][row]
    alignas(64) float tot[4][16][16];     // [C tile][token][row]: the rows' sums so far
};

template <int NR, bool Two>
inline void group_tiles(const Activations& a, int64_t t0, int64_t g, const uint8_t* btiles, int64_t nb, GroupTiles& e) {
    const int64_t rs = a.n_in() / 32 * kQ8Block;
    for (int bi = 0; bi < 4; ++bi) {
        const int64_t b = 4 * g + bi;
        _tile_zero(0);
        if constexpr (NR == 2) _tile_zero(1);
        if constexpr (Two) {
            _tile_zero(2);
            if constexpr (NR == 2) _tile_zero(3);
        }
        _tile_loadd(4, a.row(t0) + b * kQ8Block + 4, rs);
        if constexpr (Two) _tile_loadd(5, a.row(t0 + 16) + b * kQ8Block + 4, rs);
        _tile_loadd(6, btiles + b * kBTileBytes, 64);
        if constexpr (NR == 2) _tile_loadd(7, btiles + (nb + b) * kBTileBytes, 64);
        _tile_dpbssd(0, 4, 6);
        if constexpr (NR == 2) _tile_dpbssd(1, 4, 7);
        if constexpr (Two) {
            _tile_dpbssd(2, 5, 6);
            if constexpr (NR == 2) _tile_dpbssd(3, 5, 7);
        }
        _tile_stored(0, e.c[bi][0], 64);
        if constexpr (NR == 2) _tile_stored(1, e.c[bi][1], 64);
        if constexpr (Two) {
            _tile_stored(2, e.c[bi][2], 64);
            if constexpr (NR == 2) _tile_stored(3, e.c[bi][3], 64);
        }
    }
}

// Group g's tiles into the row sums: per token row, Σ_blocks d_x · float(C), times the rows' weight scales.
template <int NR>
inline void group_epilogue(const Activations& a, int64_t t0, int n0, int n1, int64_t g, const __m512* dw, GroupTiles& e) {
    for (int i = 0; i < (n1 > 0 ? 2 : 1); ++i) {
        const int n = i == 0 ? n0 : n1;
        for (int t = 0; t < n; ++t) {
            const auto* q = reinterpret_cast<const float*>(a.row(t0 + 16 * i + t) + 4 * g * kQ8Block);
            const __m512 d0 = _mm512_set1_ps(q[0]), d1 = _mm512_set1_ps(q[9]), d2 = _mm512_set1_ps(q[18]),
                         d3 = _mm512_set1_ps(q[27]);  // the 4 blocks' f32 scales, 36 bytes apart
            for (int j = 0; j < NR; ++j) {
                const int c = 2 * i + j;
                __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(e.c[0][c][t])), d0);
                s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(e.c[1][c][t])), d1, s);
                s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(e.c[2][c][t])), d2, s);
                s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(e.c[3][c][t])), d3, s);
                float* tot = e.tot[c][t];
                _mm512_store_ps(tot, g == 0 ? _mm512_mul_ps(s, dw[j]) : _mm512_fmadd_ps(s, dw[j], _mm512_load_ps(tot)));
            }
        }
    }
}

// Rows of the NR (1 or 2) row blocks from rb0 whose B tiles are at `btiles`, for every token, into y.
template <int NR>
void row_blocks(const R16LView<const uint8_t>& view, const Activations& a, int64_t rb0, const uint8_t* btiles,
                int64_t o0, int64_t o1, int64_t n_out, float* y, GroupTiles& e, int& cfg_n0, int& cfg_n1) {
    const int64_t nb = view.nb, n_tok = a.n_rows();
    __mmask16 keep[2];
    for (int j = 0; j < NR; ++j) {
        uint32_t m = 0;
        for (int r = 0; r < 16; ++r) {
            const int64_t o = 16 * (rb0 + j) + r;
            if (o >= o0 && o < o1) m |= 1u << r;
        }
        keep[j] = static_cast<__mmask16>(m);
    }
    for (int64_t t0 = 0; t0 < n_tok; t0 += 32) {
        const int n0 = static_cast<int>(std::min<int64_t>(16, n_tok - t0));
        const int n1 = static_cast<int>(std::clamp<int64_t>(n_tok - t0 - 16, 0, 16));
        if (n0 != cfg_n0 || n1 != cfg_n1) {
            configure(n0, n1);
            cfg_n0 = n0;
            cfg_n1 = n1;
        }
        for (int64_t g = 0; g < nb / 4; ++g) {
            if (n1 > 0) group_tiles<NR, true>(a, t0, g, btiles, nb, e);
            else group_tiles<NR, false>(a, t0, g, btiles, nb, e);
            __m512 dw[2];
            for (int j = 0; j < NR; ++j)
                dw[j] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(view.scales(rb0 + j, 4 * g))));
            group_epilogue<NR>(a, t0, n0, n1, g, dw, e);
        }
        for (int i = 0; i < (n1 > 0 ? 2 : 1); ++i) {
            const int n = i == 0 ? n0 : n1;
            for (int t = 0; t < n; ++t)
                for (int j = 0; j < NR; ++j)
                    _mm512_mask_storeu_ps(y + (t0 + 16 * i + t) * n_out + 16 * (rb0 + j), keep[j],
                                          _mm512_load_ps(e.tot[2 * i + j][t]));
        }
    }
}

}  // namespace

void q1_0_r16l_amx(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t nb = w.n_in / 32;
    const R16LView<const uint8_t> view{w.data, nb, w.n_out / 16};
    thread_local AlignedBuf tiles_buf, epilogue_buf;  // per thread, kept between calls (20 KiB + the B tiles)
    uint8_t* btiles = tiles_buf.get(static_cast<size_t>(2 * nb * kBTileBytes));
    auto* epilogue = reinterpret_cast<GroupTiles*>(epilogue_buf.get(sizeof(GroupTiles)));
    int cfg_n0 = -1, cfg_n1 = -1;
    for (int64_t rb = o0 / 16; rb * 16 < o1; rb += 2) {
        const bool two = (rb + 1) * 16 < o1;
        r16l_b_tiles(view, rb, btiles);
        if (two) {
            r16l_b_tiles(view, rb + 1, btiles + nb * kBTileBytes);
            row_blocks<2>(view, a, rb, btiles, o0, o1, w.n_out, y, *epilogue, cfg_n0, cfg_n1);
        } else {
            row_blocks<1>(view, a, rb, btiles, o0, o1, w.n_out, y, *epilogue, cfg_n0, cfg_n1);
        }
    }
    _tile_release();
}

}  // namespace bonsai::cpu::detail
#else
#include "bonsai/error.h"
namespace bonsai::cpu::detail {
// Built without AMX support: amx_kernels_enabled() is false then (cpu_features.cpp), so this is never called.
void q1_0_r16l_amx(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: this build has no AMX kernels");
}
}  // namespace bonsai::cpu::detail
#endif
