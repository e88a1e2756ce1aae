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

// Tiles for n0 tokens in token tile 0 and n1 (0 = none) in token tile 1, K = kbytes int8 per A row (32:
// one Q8_0 block; 64: a quarter of a Q8_K block). A tile a kernel does not use stays unconfigured (rows
// and colsb 0).
void configure(int n0, int n1, int kbytes) {
    TileConfig c;
    const int n[2] = {n0, n1};
    for (int i = 0; i < 2; ++i) {
        if (n[i] == 0) continue;
        for (int j = 0; j < 2; ++j) {
            c.rows[2 * i + j] = static_cast<uint8_t>(n[i]);
            c.colsb[2 * i + j] = 64;
        }
        c.rows[4 + i] = static_cast<uint8_t>(n[i]);
        c.colsb[4 + i] = static_cast<uint16_t>(kbytes);
    }
    for (int j = 0; j < 2; ++j) {
        c.rows[6 + j] = static_cast<uint8_t>(kbytes / 4);
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
            configure(n0, n1, 32);
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


// With the activations' per-128 form (Activations::x128): a group's two K = 64 steps (B tile = the 512-byte
// tiles of blocks 2m and 2m + 1, 16 rows of 64 bytes) add up in the C tiles, one epilogue per group.
template <int NR, bool Two>
inline void group128_tiles(const Activations& a, int64_t t0, int64_t g, const uint8_t* btiles, int64_t nb) {
    const int64_t rs = a.x128_stride();
    _tile_zero(0);
    if constexpr (NR == 2) _tile_zero(1);
    if constexpr (Two) {
        _tile_zero(2);
        if constexpr (NR == 2) _tile_zero(3);
    }
    for (int h = 0; h < 2; ++h) {
        const int64_t k = 128 * g + 64 * h;
        const uint8_t* bt = btiles + (4 * g + 2 * h) * kBTileBytes;
        _tile_loadd(4, a.x128(t0) + k, rs);
        if constexpr (Two) _tile_loadd(5, a.x128(t0 + 16) + k, rs);
        _tile_loadd(6, bt, 64);
        if constexpr (NR == 2) _tile_loadd(7, bt + nb * kBTileBytes, 64);
        _tile_dpbssd(0, 4, 6);
        if constexpr (NR == 2) _tile_dpbssd(1, 4, 7);
        if constexpr (Two) {
            _tile_dpbssd(2, 5, 6);
            if constexpr (NR == 2) _tile_dpbssd(3, 5, 7);
        }
    }
}

// C tiles of 2 consecutive groups (stored, then converted one group later so that the stores drain) and
// the rows' sums.
struct Group128Tiles {
    alignas(64) int32_t c[2][4][16][16];  // [group parity][C tile][token][row]
    alignas(64) float tot[4][16][16];     // [C tile][token][row]
};

template <int NR>
void row_blocks128(const R16LView<const uint8_t>& view, const Activations& a, int64_t rb0, const uint8_t* btiles,
                   int64_t o0, int64_t o1, int64_t n_out, float* y, Group128Tiles& e, int& cfg_n0, int& cfg_n1) {
    const int64_t nb = view.nb, n_tok = a.n_rows(), ng = nb / 4;
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
            configure(n0, n1, 64);
            cfg_n0 = n0;
            cfg_n1 = n1;
        }
        const auto convert = [&](int64_t g) {
            const auto& c = e.c[g % 2];
            __m512 dw[2];
            for (int j = 0; j < NR; ++j)
                dw[j] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(view.scales(rb0 + j, 4 * g))));
            for (int i = 0; i < (n1 > 0 ? 2 : 1); ++i) {
                const int n = i == 0 ? n0 : n1;
                for (int t = 0; t < n; ++t) {
                    const __m512 dx = _mm512_set1_ps(a.x128_scales(t0 + 16 * i + t)[g]);
                    for (int j = 0; j < NR; ++j) {
                        const int ct = 2 * i + j;
                        const __m512 d = _mm512_mul_ps(dx, dw[j]);
                        const __m512 v = _mm512_cvtepi32_ps(_mm512_load_si512(c[ct][t]));
                        float* tot = e.tot[ct][t];
                        _mm512_store_ps(tot, g == 0 ? _mm512_mul_ps(v, d) : _mm512_fmadd_ps(v, d, _mm512_load_ps(tot)));
                    }
                }
            }
        };
        for (int64_t g = 0; g < ng; ++g) {
            if (n1 > 0) group128_tiles<NR, true>(a, t0, g, btiles, nb);
            else group128_tiles<NR, false>(a, t0, g, btiles, nb);
            auto& c = e.c[g % 2];
            _tile_stored(0, c[0], 64);
            if constexpr (NR == 2) _tile_stored(1, c[1], 64);
            if (n1 > 0) {
                _tile_stored(2, c[2], 64);
                if constexpr (NR == 2) _tile_stored(3, c[3], 64);
            }
            if (g > 0) convert(g - 1);
        }
        convert(ng - 1);
        for (int i = 0; i < (n1 > 0 ? 2 : 1); ++i) {
            const int n = i == 0 ? n0 : n1;
            for (int t = 0; t < n; ++t)
                for (int j = 0; j < NR; ++j)
                    _mm512_mask_storeu_ps(y + (t0 + 16 * i + t) * n_out + 16 * (rb0 + j), keep[j],
                                          _mm512_load_ps(e.tot[2 * i + j][t]));
        }
    }
}

// ---- TQ2_0, Layout::R16T ----
// Q8_K activations carry one f32 scale per 256 values, so a block's 4 TDPBSSD (K = 64 each) add up in
// the C tiles and the float epilogue runs once per 256 weights: here the tile unit, not the epilogue,
// sets the pace.

constexpr int64_t kQ8KBlock = 292;       // Activations' Q8_K block (matmul.cpp): f32 d, int8 q[256], int16 bsums[16]
constexpr int64_t kBTile64Bytes = 1024;  // one B tile of K = 64: 16 rows × 64 bytes

// Lane L of t2[q], t2[4 + q], t2[8 + q], t2[12 + q] as one vector (the shuffles need immediates).
template <int L>
inline __m512i lane_rows_at(const __m512i* t2, int q) {
    const __m512i a = _mm512_shuffle_i32x4(t2[q], t2[4 + q], _MM_SHUFFLE(L, L, L, L));
    const __m512i b = _mm512_shuffle_i32x4(t2[8 + q], t2[12 + q], _MM_SHUFFLE(L, L, L, L));
    return _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0));
}
inline __m512i lane_rows(const __m512i* t2, int L, int q) {
    switch (L) {
        case 0: return lane_rows_at<0>(t2, q);
        case 1: return lane_rows_at<1>(t2, q);
        case 2: return lane_rows_at<2>(t2, q);
        default: return lane_rows_at<3>(t2, q);
    }
}

// B tiles of the rows [ob, ob + 16) of an R16T weight (repack.h; rows from `valid` on read as zero) for
// every 64-element K step kb (n_in / 64 tiles at out + kb·1 KiB), and their block scales as floats
// (dws[16·B + r], B = block). R16T dword 16v + i of chunk (o, c) holds, at bits 2l of its 4 bytes, the
// codes of elements 256(i/2) + 128(i%2) + 4(4v + l) + p: after a 16 × 16 dword transpose over the rows,
// vector i of step v gives B rows for 4 quads at once (shift, mask, minus 1: the signed values q - 1).
void r16t_b_tiles(const Weight& w, int64_t ob, int64_t valid, uint8_t* out, float* dws) {
    const int64_t nc = w.n_in / 2048;
    const auto* scales = reinterpret_cast<const uint16_t*>(w.data + w.n_out * nc * 512);
    const __m512i three = _mm512_set1_epi8(3), one = _mm512_set1_epi8(1);
    for (int64_t c = 0; c < nc; ++c) {
        for (int v = 0; v < 8; ++v) {
            __m512i m[16];
            for (int r = 0; r < 16; ++r)
                m[r] = r < valid ? _mm512_loadu_si512(w.data + ((ob + r) * nc + c) * 512 + 64 * v) : _mm512_setzero_si512();
            // 16 × 16 dword transpose: m[r] dword i -> t[i] dword r.
            __m512i t1[16], t2[16];
            for (int k = 0; k < 8; ++k) {
                t1[2 * k] = _mm512_unpacklo_epi32(m[2 * k], m[2 * k + 1]);
                t1[2 * k + 1] = _mm512_unpackhi_epi32(m[2 * k], m[2 * k + 1]);
            }
            for (int k = 0; k < 4; ++k)
                for (int h = 0; h < 2; ++h) {  // t1[4k + h]: dwords 2h, 2h + 1 of rows 4k, 4k + 1 (per lane)
                    t2[4 * k + 2 * h] = _mm512_unpacklo_epi64(t1[4 * k + h], t1[4 * k + 2 + h]);
                    t2[4 * k + 2 * h + 1] = _mm512_unpackhi_epi64(t1[4 * k + h], t1[4 * k + 2 + h]);
                }
            // t2[4k + q], 128-bit lane L: dwords q of lane L of rows 4k .. 4k + 3. Gather lane L of the 4 row
            // quads into one vector: rows 0-15 of in-lane dword index 4L + q.
            for (int L = 0; L < 4; ++L)
                for (int q = 0; q < 4; ++q) {
                    const __m512i row = lane_rows(t2, L, q);
                    const int i = 4 * L + q;
                    for (int l = 0; l < 4; ++l) {
                        const int s = 4 * v + l;
                        const int64_t kb = 32 * c + 4 * (i / 2) + 2 * (i % 2) + s / 16;
                        const __m512i plane = _mm512_and_si512(_mm512_srli_epi32(row, static_cast<unsigned>(2 * l)), three);
                        _mm512_store_si512(out + kb * kBTile64Bytes + 64 * (s % 16), _mm512_sub_epi8(plane, one));
                    }
                }
        }
        for (int b = 0; b < 8; ++b)
            for (int r = 0; r < 16; ++r)
                dws[16 * (8 * c + b) + r] = r < valid ? _cvtsh_ss(scales[((ob + r) * nc + c) * 8 + b]) : 0.0f;
    }
}

template <int NR, bool Two>
inline void tq2_block_tiles(const Activations& a, int64_t t0, int64_t blk, const uint8_t* btiles, int64_t nkb) {
    const int64_t rs = a.n_in() / 256 * kQ8KBlock;
    _tile_zero(0);
    if constexpr (NR == 2) _tile_zero(1);
    if constexpr (Two) {
        _tile_zero(2);
        if constexpr (NR == 2) _tile_zero(3);
    }
    for (int64_t q = 0; q < 4; ++q) {
        const int64_t kb = 4 * blk + q;
        _tile_loadd(4, a.row(t0) + blk * kQ8KBlock + 4 + 64 * q, rs);
        if constexpr (Two) _tile_loadd(5, a.row(t0 + 16) + blk * kQ8KBlock + 4 + 64 * q, rs);
        _tile_loadd(6, btiles + kb * kBTile64Bytes, 64);
        if constexpr (NR == 2) _tile_loadd(7, btiles + (nkb + kb) * kBTile64Bytes, 64);
        _tile_dpbssd(0, 4, 6);
        if constexpr (NR == 2) _tile_dpbssd(1, 4, 7);
        if constexpr (Two) {
            _tile_dpbssd(2, 5, 6);
            if constexpr (NR == 2) _tile_dpbssd(3, 5, 7);
        }
    }
}

struct Tq2Tiles {
    alignas(64) int32_t c[2][4][16][16];  // [block parity][C tile][token][row]
    alignas(64) float tot[4][16][16];     // [C tile][token][row]
};

// Rows [ob, ob + 16·NR) ∩ [.., o1) of an R16T weight whose B tiles and scales are at btiles / dws, for every token.
template <int NR>
void tq2_row_blocks(const Activations& a, const uint8_t* btiles, const float* dws, int64_t nkb, int64_t ob, int64_t o1,
                    int64_t n_out, float* y, Tq2Tiles& e, int& cfg_n0, int& cfg_n1) {
    const int64_t nblk = a.n_in() / 256, n_tok = a.n_rows();
    __mmask16 keep[2];
    for (int j = 0; j < NR; ++j) {
        const int64_t n = std::clamp<int64_t>(o1 - ob - 16 * j, 0, 16);
        keep[j] = static_cast<__mmask16>((1u << n) - 1u);
    }
    for (int64_t t0 = 0; t0 < n_tok; t0 += 32) {
        const int n0 = static_cast<int>(std::min<int64_t>(16, n_tok - t0));
        const int n1 = static_cast<int>(std::clamp<int64_t>(n_tok - t0 - 16, 0, 16));
        if (n0 != cfg_n0 || n1 != cfg_n1) {
            configure(n0, n1, 64);
            cfg_n0 = n0;
            cfg_n1 = n1;
        }
        // Block blk's C tiles go to alternating buffers and are converted after block blk + 1's tiles are
        // issued, so that the tile stores have drained when the vector loads read them.
        const auto convert = [&](int64_t blk) {
            const auto& c = e.c[blk % 2];
            for (int i = 0; i < (n1 > 0 ? 2 : 1); ++i) {
                const int n = i == 0 ? n0 : n1;
                for (int t = 0; t < n; ++t) {
                    float dx;
                    std::memcpy(&dx, a.row(t0 + 16 * i + t) + blk * kQ8KBlock, 4);
                    for (int j = 0; j < NR; ++j) {
                        const int ct = 2 * i + j;
                        const __m512 d = _mm512_mul_ps(_mm512_set1_ps(dx), _mm512_load_ps(dws + (j * nblk + blk) * 16));
                        const __m512 v = _mm512_cvtepi32_ps(_mm512_load_si512(c[ct][t]));
                        float* tot = e.tot[ct][t];
                        _mm512_store_ps(tot, blk == 0 ? _mm512_mul_ps(v, d) : _mm512_fmadd_ps(v, d, _mm512_load_ps(tot)));
                    }
                }
            }
        };
        for (int64_t blk = 0; blk < nblk; ++blk) {
            if (n1 > 0) tq2_block_tiles<NR, true>(a, t0, blk, btiles, nkb);
            else tq2_block_tiles<NR, false>(a, t0, blk, btiles, nkb);
            auto& c = e.c[blk % 2];
            _tile_stored(0, c[0], 64);
            if constexpr (NR == 2) _tile_stored(1, c[1], 64);
            if (n1 > 0) {
                _tile_stored(2, c[2], 64);
                if constexpr (NR == 2) _tile_stored(3, c[3], 64);
            }
            if (blk > 0) convert(blk - 1);
        }
        convert(nblk - 1);
        for (int i = 0; i < (n1 > 0 ? 2 : 1); ++i) {
            const int n = i == 0 ? n0 : n1;
            for (int t = 0; t < n; ++t)
                for (int j = 0; j < NR; ++j)
                    _mm512_mask_storeu_ps(y + (t0 + 16 * i + t) * n_out + ob + 16 * j, keep[j], _mm512_load_ps(e.tot[2 * i + j][t]));
        }
    }
}

}  // namespace

void quantize_x128(const float* x, int8_t* q, float* d, int64_t n) {
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (int64_t g = 0; g < n / 128; ++g, x += 128, q += 128) {
        __m512 v[8], m = _mm512_setzero_ps();
        for (int k = 0; k < 8; ++k) {
            v[k] = _mm512_loadu_ps(x + 16 * k);
            m = _mm512_max_ps(m, _mm512_andnot_ps(sign, v[k]));
        }
        const float amax = _mm512_reduce_max_ps(m);
        d[g] = amax / 127.0f;
        const __m512 id = _mm512_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
        // cvtps rounds to nearest even (the default MXCSR mode), as nearbyint does.
        for (int k = 0; k < 8; ++k)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16 * k), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v[k], id))));
    }
}

void q1_0_r16l_amx(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t nb = w.n_in / 32;
    const R16LView<const uint8_t> view{w.data, nb, w.n_out / 16};
    const bool x128 = a.x128(0) != nullptr;  // one epilogue per 128 weights instead of per 32
    thread_local AlignedBuf tiles_buf, epilogue_buf;  // per thread, kept between calls (~20 KiB + the B tiles)
    uint8_t* btiles = tiles_buf.get(static_cast<size_t>(2 * nb * kBTileBytes));
    uint8_t* ebuf = epilogue_buf.get(std::max(sizeof(GroupTiles), sizeof(Group128Tiles)));
    int cfg_n0 = -1, cfg_n1 = -1;
    for (int64_t rb = o0 / 16; rb * 16 < o1; rb += 2) {
        const bool two = (rb + 1) * 16 < o1;
        r16l_b_tiles(view, rb, btiles);
        if (two) r16l_b_tiles(view, rb + 1, btiles + nb * kBTileBytes);
        if (x128) {
            auto& e = *reinterpret_cast<Group128Tiles*>(ebuf);
            if (two) row_blocks128<2>(view, a, rb, btiles, o0, o1, w.n_out, y, e, cfg_n0, cfg_n1);
            else row_blocks128<1>(view, a, rb, btiles, o0, o1, w.n_out, y, e, cfg_n0, cfg_n1);
        } else {
            auto& e = *reinterpret_cast<GroupTiles*>(ebuf);
            if (two) row_blocks<2>(view, a, rb, btiles, o0, o1, w.n_out, y, e, cfg_n0, cfg_n1);
            else row_blocks<1>(view, a, rb, btiles, o0, o1, w.n_out, y, e, cfg_n0, cfg_n1);
        }
    }
    _tile_release();
}

void tq2_0_r16t_amx(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t nkb = w.n_in / 64, nblk = w.n_in / 256;
    thread_local AlignedBuf tiles_buf, scale_buf, epilogue_buf;  // per thread, kept between calls
    uint8_t* btiles = tiles_buf.get(static_cast<size_t>(2 * nkb * kBTile64Bytes));
    auto* dws = reinterpret_cast<float*>(scale_buf.get(static_cast<size_t>(2 * nblk * 16) * sizeof(float)));
    auto* e = reinterpret_cast<Tq2Tiles*>(epilogue_buf.get(sizeof(Tq2Tiles)));
    int cfg_n0 = -1, cfg_n1 = -1;
    for (int64_t ob = o0; ob < o1; ob += 32) {
        r16t_b_tiles(w, ob, std::min<int64_t>(16, o1 - ob), btiles, dws);
        if (o1 - ob > 16) {
            r16t_b_tiles(w, ob + 16, std::min<int64_t>(16, o1 - ob - 16), btiles + nkb * kBTile64Bytes, dws + nblk * 16);
            tq2_row_blocks<2>(a, btiles, dws, nkb, ob, o1, w.n_out, y, *e, cfg_n0, cfg_n1);
        } else {
            tq2_row_blocks<1>(a, btiles, dws, nkb, ob, o1, w.n_out, y, *e, cfg_n0, cfg_n1);
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
void tq2_0_r16t_amx(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: this build has no AMX kernels");
}
void quantize_x128(const float*, int8_t*, float*, int64_t) { throw Error("matmul: this build has no AMX kernels"); }
}  // namespace bonsai::cpu::detail
#endif
