// AMX (Intel Advanced Matrix Extensions) int8 prompt kernels for Q1_0 (Layout::R16L), Q2_0 (Layout::R16)
// and TQ2_0 (Layout::R16T). This file alone is compiled with -mamx-tile -mamx-int8 (CMakeLists.txt); its kernels run
// only where cpu_features says amx_kernels_enabled() (AMX granted to this process by the kernel, and not
// switched off).
//
// Why: a VNNI core does 64 int8 multiply-adds per vpdpbusd, and the prompt kernels reach ~60 per cycle;
// one TDPBSSD multiplies a 16 × 64 int8 tile by a 64 × 16 one (16,384 multiply-adds) on the tile unit.
//
// Integer sums can only run as far as one activation scale reaches; each group's 16 × 16 int32 C tiles
// then go through a float epilogue (stored, converted, times the token's and the rows' scales, added to
// the rows' sums). TQ2_0's Q8_K activations have one scale per 256 values: 4 steps of K = 64 per
// epilogue. Q1_0's Q8_0 activations have one per 32, which made the C-tile stores and their reloads the
// limit (measured: one epilogue per 32 weights, ~700 GFLOP/s on two cores); so the Q1_0 and Q2_0 tiles
// read Activations::x128 instead, the same rows rounded with one scale per 128 (Q1_0: 2 steps per
// epilogue, one per weight scale; Q2_0, whose weights carry a scale per 64: 1 step). The
// integer sums are exact; the results equal the float64 products of those inputs up to float summation.
//
// Tiles (palette 1): tmm0-3 the int32 results C[i][j] of token tile i (16 tokens) and row tile j (16 weight
// rows) at 2i + j, tmm4-5 the activations A[i] (16 tokens × 64 int8, loaded straight from the activation
// rows), tmm6-7 the weights B[j] (16 rows of 16 × 4 int8: row g holds weights 4g .. 4g + 3 of the K step
// for each of the 16 weight rows, which is how TDPBSSD pairs 4 consecutive K values of A with a column of
// B). The B tiles of a pair of row tiles are decoded once per call from the repacked weights (1 KiB per
// K step and row tile) with their scales as floats, then every 32-token group runs over them.
#include "backend/cpu/aligned_buf.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/r16l_layout.h"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace bonsai::cpu::detail {
namespace {

constexpr int64_t kKStep = 64;         // K per TDPBSSD
constexpr int64_t kBTileBytes = 1024;  // one B tile: 16 rows × 64 bytes
constexpr int64_t kQ8KBlock = 292;     // Activations' Q8_K block (matmul.cpp): f32 d, int8 q[256], int16 bsums[16]

// ldtilecfg's 64-byte operand.
struct alignas(64) TileConfig {
    uint8_t palette = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};

// The tile shapes of the current token group (n0 tokens in token tile 0, n1 in tile 1, 0 = none); loaded
// only when they change. A tile a group does not use stays unconfigured (rows and colsb 0).
struct TileShapes {
    int n0 = -1, n1 = -1;
    void use(int m0, int m1) {
        if (m0 == n0 && m1 == n1) return;
        n0 = m0;
        n1 = m1;
        TileConfig c;
        const int n[2] = {m0, m1};
        for (int i = 0; i < 2; ++i) {
            if (n[i] == 0) continue;
            for (int j = 0; j < 2; ++j) {
                c.rows[2 * i + j] = static_cast<uint8_t>(n[i]);
                c.colsb[2 * i + j] = 64;
            }
            c.rows[4 + i] = static_cast<uint8_t>(n[i]);
            c.colsb[4 + i] = kKStep;
        }
        for (int j = 0; j < 2; ++j) {
            c.rows[6 + j] = kKStep / 4;
            c.colsb[6 + j] = 64;
        }
        // GCC 12 drops the stores above, keeping only the palette byte, unless it is told that the whole
        // object is read (seen in the disassembly: the tiles then stayed unconfigured and the first tile
        // instruction raised #UD).
        __asm__ volatile("" : : "m"(c) : "memory");
        _tile_loadconfig(&c);
    }
};

// The activations as the driver reads them: kSteps K steps per scale group; a(t, kb) the 64 int8 of token
// t at K step kb, tokens stride() bytes apart; dx(t, g) the scale of token t's group g.
template <int64_t Group>
struct X128Acts {  // Activations::x128 in groups of Group values (the weights' scale groups: Q1_0 128, Q2_0 64)
    static constexpr int64_t kSteps = Group / kKStep;
    const Activations& acts;
    const int8_t* a(int64_t t, int64_t kb) const { return acts.x128(t) + kb * kKStep; }
    int64_t stride() const { return acts.x128_stride(); }
    float dx(int64_t t, int64_t g) const { return acts.x128_scales(t)[g * Group / 128]; }
};
struct Q8KActs {  // TQ2_0: the native Q8_K rows
    static constexpr int64_t kSteps = 4;
    const Activations& acts;
    const uint8_t* a(int64_t t, int64_t kb) const { return acts.row(t) + kb / 4 * kQ8KBlock + 4 + kb % 4 * kKStep; }
    int64_t stride() const { return acts.n_in() / 256 * kQ8KBlock; }
    float dx(int64_t t, int64_t g) const {
        float d;
        std::memcpy(&d, acts.row(t) + g * kQ8KBlock, 4);
        return d;
    }
};

// One row pair's decoded weights: B tiles (row tile j's K step kb at tiles + (j·nkb + kb)·1 KiB) and the
// weight scales of each group (row tile j's group g at scales + (j·ng + g)·16, one float per row).
struct RowPair {
    const uint8_t* tiles;
    const float* scales;
    int64_t nkb, ng;
};

// The C tiles of two consecutive groups (stored, then converted one group later, so that the tile stores
// have drained when the vector loads read them back) and the rows' sums.
struct Epilogue {
    alignas(64) int32_t c[2][4][16][16];  // [group parity][C tile][token][row]
    alignas(64) float tot[4][16][16];     // [C tile][token][row]
};

// Group g's C tiles for tokens t0 .. (+16, +32 with Two) and NR row tiles.
template <class A, int NR, bool Two>
inline void group_tiles(const A& x, int64_t t0, int64_t g, const RowPair& w) {
    _tile_zero(0);
    if constexpr (NR == 2) _tile_zero(1);
    if constexpr (Two) {
        _tile_zero(2);
        if constexpr (NR == 2) _tile_zero(3);
    }
    for (int64_t s = 0; s < A::kSteps; ++s) {
        const int64_t kb = g * A::kSteps + s;
        _tile_loadd(4, x.a(t0, kb), x.stride());
        if constexpr (Two) _tile_loadd(5, x.a(t0 + 16, kb), x.stride());
        _tile_loadd(6, w.tiles + kb * kBTileBytes, 64);
        if constexpr (NR == 2) _tile_loadd(7, w.tiles + (w.nkb + kb) * kBTileBytes, 64);
        _tile_dpbssd(0, 4, 6);
        if constexpr (NR == 2) _tile_dpbssd(1, 4, 7);
        if constexpr (Two) {
            _tile_dpbssd(2, 5, 6);
            if constexpr (NR == 2) _tile_dpbssd(3, 5, 7);
        }
    }
}

template <int NR, bool Two>
inline void store_tiles(Epilogue& e, int64_t g) {
    auto& c = e.c[g % 2];
    _tile_stored(0, c[0], 64);
    if constexpr (NR == 2) _tile_stored(1, c[1], 64);
    if constexpr (Two) {
        _tile_stored(2, c[2], 64);
        if constexpr (NR == 2) _tile_stored(3, c[3], 64);
    }
}

// NR (1 or 2) row tiles × every token: y_rows[t·n_out + 16j + r] for the rows whose bit r is set in keep[j].
template <class A, int NR>
void row_pair(const A& x, int64_t n_tok, const RowPair& w, float* y_rows, int64_t n_out, const __mmask16* keep,
              Epilogue& e, TileShapes& shapes) {
    for (int64_t t0 = 0; t0 < n_tok; t0 += 32) {
        const int n0 = static_cast<int>(std::min<int64_t>(16, n_tok - t0));
        const int n1 = static_cast<int>(std::clamp<int64_t>(n_tok - t0 - 16, 0, 16));
        shapes.use(n0, n1);
        const auto convert = [&](int64_t g) {
            const auto& c = e.c[g % 2];
            for (int i = 0; i < (n1 > 0 ? 2 : 1); ++i) {
                const int n = i == 0 ? n0 : n1;
                for (int t = 0; t < n; ++t) {
                    const __m512 dx = _mm512_set1_ps(x.dx(t0 + 16 * i + t, g));
                    for (int j = 0; j < NR; ++j) {
                        const int ct = 2 * i + j;
                        const __m512 d = _mm512_mul_ps(dx, _mm512_load_ps(w.scales + (j * w.ng + g) * 16));
                        const __m512 v = _mm512_cvtepi32_ps(_mm512_load_si512(c[ct][t]));
                        float* tot = e.tot[ct][t];
                        _mm512_store_ps(tot, g == 0 ? _mm512_mul_ps(v, d) : _mm512_fmadd_ps(v, d, _mm512_load_ps(tot)));
                    }
                }
            }
        };
        for (int64_t g = 0; g < w.ng; ++g) {
            if (n1 > 0) {
                group_tiles<A, NR, true>(x, t0, g, w);
                store_tiles<NR, true>(e, g);
            } else {
                group_tiles<A, NR, false>(x, t0, g, w);
                store_tiles<NR, false>(e, g);
            }
            if (g > 0) convert(g - 1);
        }
        convert(w.ng - 1);
        for (int i = 0; i < (n1 > 0 ? 2 : 1); ++i) {
            const int n = i == 0 ? n0 : n1;
            for (int t = 0; t < n; ++t)
                for (int j = 0; j < NR; ++j)
                    _mm512_mask_storeu_ps(y_rows + (t0 + 16 * i + t) * n_out + 16 * j, keep[j], _mm512_load_ps(e.tot[2 * i + j][t]));
        }
    }
}

// Rows [o0, o1): pairs of row tiles, the first at row `first` + 32q, their B tiles decoded by
// decode(row0, tiles, scales) (a row tile) right before they are used.
template <class A, class Decode>
void rows(const A& x, int64_t n_tok, int64_t first, int64_t o0, int64_t o1, int64_t n_out, int64_t nkb, int64_t ng,
          float* y, const Decode& decode) {
    thread_local AlignedBuf tiles_buf, scales_buf, epilogue_buf;  // per thread, kept between calls
    uint8_t* tiles = tiles_buf.get(static_cast<size_t>(2 * nkb * kBTileBytes));
    auto* scales = reinterpret_cast<float*>(scales_buf.get(static_cast<size_t>(2 * ng * 16) * sizeof(float)));
    auto& e = *reinterpret_cast<Epilogue*>(epilogue_buf.get(sizeof(Epilogue)));
    const RowPair w{tiles, scales, nkb, ng};
    TileShapes shapes;
    for (int64_t r0 = first; r0 < o1; r0 += 32) {
        __mmask16 keep[2];
        for (int j = 0; j < 2; ++j) {
            uint32_t m = 0;
            for (int r = 0; r < 16; ++r)
                if (r0 + 16 * j + r >= o0 && r0 + 16 * j + r < o1) m |= 1u << r;
            keep[j] = static_cast<__mmask16>(m);
        }
        decode(r0, tiles, scales);
        if (keep[1] != 0) {
            decode(r0 + 16, tiles + nkb * kBTileBytes, scales + ng * 16);
            row_pair<A, 2>(x, n_tok, w, y + r0, n_out, keep, e, shapes);
        } else {
            row_pair<A, 1>(x, n_tok, w, y + r0, n_out, keep, e, shapes);
        }
    }
    _tile_release();
}

// Rows 16rb .. 16rb + 15 of an R16L weight (repack.h) as B tiles and float scales (groups of 128). R16L
// vector (rb, b) holds, in dword r, row r's 32 sign bits of block b: quad q (weights 4q .. 4q + 3) is
// nibble q / 4 of byte q % 4, bit p = weight 4q + p. A lookup of the nibble in 16 dwords of ±1 bytes
// (vpermd) gives B row q for all 16 rows; blocks 2kb and 2kb + 1 are K step kb's rows 0-7 and 8-15.
void r16l_decode(const R16LView<const uint8_t>& view, int64_t rb, uint8_t* out, float* scales) {
    alignas(64) int32_t lut_v[16];
    for (int n = 0; n < 16; ++n) {
        uint32_t v = 0;
        for (int p = 0; p < 4; ++p) v |= static_cast<uint32_t>((n >> p) & 1 ? 0x01 : 0xFF) << (8 * p);
        lut_v[n] = static_cast<int32_t>(v);
    }
    const __m512i lut = _mm512_load_si512(lut_v);
    for (int64_t b = 0; b < view.nb; ++b, out += kBTileBytes / 2) {
        const __m512i v = _mm512_loadu_si512(view.codes(rb, b));
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q) {
            const __m512i nib = _mm512_srli_epi32(v, static_cast<unsigned>(8 * (q % 4) + 4 * (q / 4)));
            _mm512_store_si512(out + 64 * q, _mm512_permutexvar_epi32(nib, lut));
        }
    }
    for (int64_t g = 0; g < view.nb / 4; ++g)
        _mm512_store_ps(scales + 16 * g, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(view.scales(rb, 4 * g)))));
}

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

// The 16 × 16 dword transpose of m (16 rows' code vectors): f(i, v) with dword r of v = dword i of m[r].
template <class F>
inline void transpose16(const __m512i* m, const F& f) {
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
    for (int L = 0; L < 4; ++L)
        for (int q = 0; q < 4; ++q) f(4 * L + q, lane_rows(t2, L, q));
}

// The 2-bit codes at bits 2l of every byte of v as signed bytes q - 1 (Q2_0, TQ2_0: values -1 .. 2).
inline __m512i signed_plane(__m512i v, int l) {
    const __m512i plane = _mm512_and_si512(_mm512_srli_epi32(v, static_cast<unsigned>(2 * l)), _mm512_set1_epi8(3));
    return _mm512_sub_epi8(plane, _mm512_set1_epi8(1));
}

// Vector `off` (bytes) of chunk c of 16 rows from ob whose chunks are `chunk` bytes (nc per row); rows from
// `valid` on read as zero.
inline void load_rows16(const Weight& w, int64_t ob, int64_t valid, int64_t nc, int64_t c, int64_t chunk, int64_t off,
                        __m512i* m) {
    for (int r = 0; r < 16; ++r)
        m[r] = r < valid ? _mm512_loadu_si512(w.data + ((ob + r) * nc + c) * chunk + off) : _mm512_setzero_si512();
}

// The 8 fp16 scales per row of chunk c (R16 Q2_0 and R16T both store 8: (o·nc + c)·8) of 16 rows from ob
// as floats, scale g of row r at out[16g + r] (0 from `valid` on).
inline void chunk_scales16(const uint16_t* halves, int64_t ob, int64_t valid, int64_t nc, int64_t c, float* out) {
    for (int g = 0; g < 8; ++g)
        for (int r = 0; r < 16; ++r) out[16 * g + r] = r < valid ? _cvtsh_ss(halves[((ob + r) * nc + c) * 8 + g]) : 0.0f;
}

// Rows [ob, ob + 16) of a Q2_0 R16 weight (repack.h; rows from `valid` on read as zero) as B tiles and
// float scales (one per 64 weights). Dword i of code vector h of chunk (o, c) holds, at bits 2l of its 4
// bytes, elements 32i + 16h + 4l + p of the chunk: K step 8c + i / 2, B row 8(i % 2) + 4h + l.
void r16_q2_decode(const Weight& w, int64_t ob, int64_t valid, uint8_t* out, float* scales) {
    const int64_t nc = w.n_in / 512;
    const auto* halves = reinterpret_cast<const uint16_t*>(w.data + w.n_out * nc * 128);
    for (int64_t c = 0; c < nc; ++c) {
        for (int h = 0; h < 2; ++h) {
            __m512i m[16];
            load_rows16(w, ob, valid, nc, c, 128, 64 * h, m);
            transpose16(m, [&](int i, __m512i row) {
                for (int l = 0; l < 4; ++l)
                    _mm512_store_si512(out + (8 * c + i / 2) * kBTileBytes + 64 * (8 * (i % 2) + 4 * h + l), signed_plane(row, l));
            });
        }
        chunk_scales16(halves, ob, valid, nc, c, scales + 16 * 8 * c);
    }
}

// Rows [ob, ob + 16) of an R16T weight (repack.h; rows from `valid` on read as zero) as B tiles and float
// scales (one per 256-weight block). R16T dword 16v + i of chunk (o, c) holds, at bits 2l of its 4 bytes,
// the codes of elements 256(i/2) + 128(i%2) + 4(4v + l) + p: after a 16 × 16 dword transpose over the
// rows, vector i of step v gives B rows for 4 quads at once (shift, mask, minus 1: the signed q - 1).
void r16t_decode(const Weight& w, int64_t ob, int64_t valid, uint8_t* out, float* scales) {
    const int64_t nc = w.n_in / 2048;
    const auto* halves = reinterpret_cast<const uint16_t*>(w.data + w.n_out * nc * 512);
    for (int64_t c = 0; c < nc; ++c) {
        for (int v = 0; v < 8; ++v) {
            __m512i m[16];
            load_rows16(w, ob, valid, nc, c, 512, 64 * v, m);
            transpose16(m, [&](int i, __m512i row) {
                for (int l = 0; l < 4; ++l) {
                    const int s = 4 * v + l;
                    const int64_t kb = 32 * c + 4 * (i / 2) + 2 * (i % 2) + s / 16;
                    _mm512_store_si512(out + kb * kBTileBytes + 64 * (s % 16), signed_plane(row, l));
                }
            });
        }
        chunk_scales16(halves, ob, valid, nc, c, scales + 16 * 8 * c);
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
    const R16LView<const uint8_t> view{w.data, w.n_in / 32, w.n_out / 16};
    // Row tiles are R16L's 16-row blocks, so the pairs start at o0's block.
    rows(X128Acts<128>{a}, a.n_rows(), o0 / 16 * 16, o0, o1, w.n_out, w.n_in / kKStep, w.n_in / 128, y,
         [&](int64_t r0, uint8_t* tiles, float* scales) { r16l_decode(view, r0 / 16, tiles, scales); });
}

void q2_0_r16_amx(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    rows(X128Acts<64>{a}, a.n_rows(), o0, o0, o1, w.n_out, w.n_in / kKStep, w.n_in / 64, y,
         [&](int64_t r0, uint8_t* tiles, float* scales) { r16_q2_decode(w, r0, std::clamp<int64_t>(o1 - r0, 0, 16), tiles, scales); });
}

void tq2_0_r16t_amx(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    rows(Q8KActs{a}, a.n_rows(), o0, o0, o1, w.n_out, w.n_in / kKStep, w.n_in / 256, y,
         [&](int64_t r0, uint8_t* tiles, float* scales) { r16t_decode(w, r0, std::clamp<int64_t>(o1 - r0, 0, 16), tiles, scales); });
}

}  // namespace bonsai::cpu::detail
#else
#include "bonsai/error.h"
namespace bonsai::cpu::detail {
// Built without AMX support: amx_kernels_enabled() is false then (cpu_features.cpp), so none is called.
void q1_0_r16l_amx(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: this build has no AMX kernels");
}
void tq2_0_r16t_amx(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: this build has no AMX kernels");
}
void q2_0_r16_amx(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: this build has no AMX kernels");
}
void quantize_x128(const float*, int8_t*, float*, int64_t) { throw Error("matmul: this build has no AMX kernels"); }
}  // namespace bonsai::cpu::detail
#endif
