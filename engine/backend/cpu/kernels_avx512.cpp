// AVX-512 (F, BW, VL, VNNI) kernels. This file alone is compiled with -mavx512* flags (CMakeLists.txt);
// nothing here may run before cpu_features confirmed the ISA. Integer sums are exact (vpdpbusd:
// unsigned 2-bit / 1-bit codes times signed int8 activations), so results equal the scalar kernels
// up to float summation order.
#include "backend/cpu/aligned_buf.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include "backend/cpu/decode_prefetch.h"

#include <algorithm>
#include <cstring>

namespace bonsai::cpu::detail {
namespace {

constexpr int kMaxTile = 8;  // tokens per register tile (prefill); 1 for decode

// Makes the compiler load `v` once into a register: otherwise GCC folds a load used by several vpdpbusd
// into each of them as a memory operand, and Zen 4 sustains only one 64-byte load per cycle.
inline void keep_in_register(__m512i& v) { __asm__("" : "+v"(v)); }

// Q1_0 / Q2_0 R16: one row against NT activation rows. xa[t] = Activations::aux(t) (R16 form).
template <bool Q1, int NT>
inline void r16_tile(const uint8_t* codes, const uint16_t* sc, int64_t nc, const uint8_t* const* xa, float* out) {
    constexpr int CB = Q1 ? 64 : 128, NS = Q1 ? 4 : 8;
    const __m512i mask = _mm512_set1_epi8(Q1 ? 1 : 3);
    const __m512i idx = Q1 ? _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0)
                           : _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nc; ++c) {
        const uint8_t* cb = codes + c * CB;
        // Decode (decode_prefetch.h): Zen 5, 2-thread 1.7B decode, ABBA over 3 rounds: Q2_0 87.9 against
        // 77.4 tok/s (one thread over the 2048×12,288 matrices: 29 -> 36 GB/s).
        if constexpr (NT == 1 && !Q1) prefetch_ahead<CB>(cb);
        const __m512i V0 = _mm512_loadu_si512(cb);
        const __m512i V1 = Q1 ? V0 : _mm512_loadu_si512(cb + 64);
        // Q2_0: Σ(q-1)·x = Σq·x - Σx, so the accumulators start at -Σx (Activations::aux).
        __m512i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = Q1 ? _mm512_setzero_si512() : _mm512_load_si512(xa[t] + c * 640 + 576);
        if constexpr (!Q1 && NT == 1) {
            // Q2_0 decode: plane p of a code byte used in place (codes · 4^p: one AND instead of a shift and
            // an AND), steps p and 4 + p in chain p, scaled back at the end of the chunk: every product of
            // chain p is a multiple of 4^p, so the arithmetic shift is exact (|chain| < 2^18), as in
            // r16t_tile. Zen 5, one thread, L2-resident 2048x2048: 49.6 -> 57.3 GB/s; 2-thread 1.7B decode,
            // 7 alternations: never slower, +2-9 % (most when the host gives ~80 GB/s). (On Zen 4, before
            // decode prefetched, the same was 10-15 % slower in 2-thread decode.)
            __m512i pa[4] = {acc[0], _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 8
            for (int s = 0; s < 8; ++s) {
                const __m512i ws = _mm512_and_si512(s < 4 ? V0 : V1, _mm512_set1_epi8(static_cast<char>(3 << (2 * (s & 3)))));
                pa[s & 3] = _mm512_dpbusd_epi32(pa[s & 3], ws, _mm512_load_si512(xa[0] + c * 640 + 64 * s));
            }
            acc[0] = _mm512_add_epi32(_mm512_add_epi32(pa[0], _mm512_srai_epi32(pa[1], 2)),
                                      _mm512_add_epi32(_mm512_srai_epi32(pa[2], 4), _mm512_srai_epi32(pa[3], 6)));
        } else {
#pragma GCC unroll 8
            for (int s = 0; s < 8; ++s) {
                const __m512i v = Q1 || s < 4 ? V0 : V1;
                const unsigned shift = Q1 ? static_cast<unsigned>(s) : static_cast<unsigned>(2 * (s & 3));
                const __m512i ws = _mm512_and_si512(_mm512_srli_epi16(v, shift), mask);
                for (int t = 0; t < NT; ++t)
                    acc[t] = _mm512_dpbusd_epi32(acc[t], ws, _mm512_load_si512(xa[t] + c * 640 + 64 * s));
            }
        }
        __m512 dw;
        if constexpr (Q1) {
            dw = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + c * NS))));
        } else {
            dw = _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + c * NS))));
        }
        dw = _mm512_permutexvar_ps(idx, dw);
        for (int t = 0; t < NT; ++t) {
            const uint8_t* x = xa[t] + c * 640;
            // Q1_0: code 1 -> +1, 0 -> -1, so Σv·x = 2Σb·x - Σx.
            const __m512i sumi = Q1 ? _mm512_add_epi32(_mm512_slli_epi32(acc[t], 1), _mm512_load_si512(x + 576)) : acc[t];
            const __m512 d = _mm512_mul_ps(dw, _mm512_loadu_ps(reinterpret_cast<const float*>(x + 512)));
            facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), d, facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
}

// Q1_0 R16M: one row against NT activation rows. Each step's 64-bit mask selects the activation bytes
// whose weight is +1: one token uses a masked load (no unpacking at all), several tokens expand the mask
// to 0/1 bytes once (maskz_mov) and share it. Σ(2b-1)·x = 2Σb·x - Σx as in r16_tile.
template <int NT>
inline void r16m_tile(const uint8_t* codes, const uint16_t* sc, int64_t nc, const uint8_t* const* xa, float* out) {
    const __m512i ones = _mm512_set1_epi8(1);
    const __m512i idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nc; ++c) {
        const uint8_t* cb = codes + c * 64;
        // Decode streams the weights once: ask for them 2 KiB ahead (rows are contiguous, so this runs into
        // the next row). 2-thread model decode on Zen 4: +5-10 % (Q2_0's r16_tile and r16t_tile measured
        // no gain or a loss with it).
        if constexpr (NT == 1) _mm_prefetch(reinterpret_cast<const char*>(cb + 2048), _MM_HINT_T0);
        // Two accumulators per token for one token: the 8 dependent dpbusd of a chunk would otherwise
        // form one long latency chain.
        constexpr int NA = NT == 1 ? 2 : 1;
        __m512i acc[NT][NA];
        for (int t = 0; t < NT; ++t)
            for (int a = 0; a < NA; ++a) acc[t][a] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
            uint64_t bits;
            std::memcpy(&bits, cb + 8 * s, 8);
            const __mmask64 k = _cvtu64_mask64(bits);
            if constexpr (NT == 1) {
                acc[0][s & 1] = _mm512_dpbusd_epi32(acc[0][s & 1], ones, _mm512_maskz_loadu_epi8(k, xa[0] + c * 640 + 64 * s));
            } else {
                const __m512i ws = _mm512_maskz_mov_epi8(k, ones);
                for (int t = 0; t < NT; ++t)
                    acc[t][0] = _mm512_dpbusd_epi32(acc[t][0], ws, _mm512_loadu_si512(xa[t] + c * 640 + 64 * s));
            }
        }
        __m512 dw = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + c * 4))));
        dw = _mm512_permutexvar_ps(idx, dw);
        for (int t = 0; t < NT; ++t) {
            const uint8_t* x = xa[t] + c * 640;
            const __m512i a = NA == 2 ? _mm512_add_epi32(acc[t][0], acc[t][NA - 1]) : acc[t][0];
            const __m512i sumi = _mm512_add_epi32(_mm512_slli_epi32(a, 1), _mm512_load_si512(x + 576));  // 2Σb·x - Σx
            const __m512 d = _mm512_mul_ps(dw, _mm512_loadu_ps(reinterpret_cast<const float*>(x + 512)));
            facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), d, facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
}

// Q1_0 R16M / Q2_0 R16 prefill: two rows × NT (≤ 4) tokens per call, so each activation load feeds two
// dpbusd and each weight vector NT of them. The weights come expanded to one byte per weight
// (expand_rows): Q1_0 2 where the code bit is set, else 0; Q2_0 the 2-bit code. A step then loads its
// weight vectors instead of decoding them on the vector ALUs (Zen 4: 2 rows × 4 tokens at 1.75 cycles
// per vpdpbusd with the Q1_0 mask expansion in the loop; Q2_0 ran one row at a time). The accumulators
// start at -Σx (Activations::aux), so they end at Σ(2b-1)·x (Q1_0) or Σ(q-1)·x (Q2_0) with no integer
// epilogue. Scales: Q1_0 4 per 512-weight chunk (lanes 4i..4i+3 share one), Q2_0 8 (lane pairs).
template <bool Q1, int NT>
inline void r16x_pair(const uint8_t* e0, const uint8_t* e1, const uint16_t* s0, const uint16_t* s1, int64_t nc,
                      const uint8_t* const* xa, float* out0, float* out1) {
    constexpr int NS = Q1 ? 4 : 8;
    const __m512i idx = Q1 ? _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0)
                           : _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const auto scales = [&](const uint16_t* sc) {
        const __m512 d = Q1 ? _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc))))
                            : _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc))));
        return _mm512_permutexvar_ps(idx, d);
    };
    __m512 f0[NT], f1[NT];
    for (int t = 0; t < NT; ++t) f0[t] = f1[t] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nc; ++c) {
        __m512i a0[NT], a1[NT];
        for (int t = 0; t < NT; ++t) a0[t] = a1[t] = _mm512_load_si512(xa[t] + c * 640 + 576);
#pragma GCC unroll 8
        for (int s = 0; s < 8; ++s) {
            __m512i w0 = _mm512_load_si512(e0 + c * 512 + 64 * s);
            __m512i w1 = _mm512_load_si512(e1 + c * 512 + 64 * s);
            keep_in_register(w0);
            keep_in_register(w1);
            for (int t = 0; t < NT; ++t) {
                __m512i x = _mm512_load_si512(xa[t] + c * 640 + 64 * s);
                keep_in_register(x);
                a0[t] = _mm512_dpbusd_epi32(a0[t], w0, x);
                a1[t] = _mm512_dpbusd_epi32(a1[t], w1, x);
            }
        }
        const __m512 d0 = scales(s0 + c * NS), d1 = scales(s1 + c * NS);
        for (int t = 0; t < NT; ++t) {
            const __m512 dx = _mm512_load_ps(reinterpret_cast<const float*>(xa[t] + c * 640 + 512));
            f0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a0[t]), _mm512_mul_ps(d0, dx), f0[t]);
            f1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a1[t]), _mm512_mul_ps(d1, dx), f1[t]);
        }
    }
    for (int t = 0; t < NT; ++t) {
        out0[t] = _mm512_reduce_add_ps(f0[t]);
        out1[t] = _mm512_reduce_add_ps(f1[t]);
    }
}

// Chunks [k0, k0 + ks) of rows [0, n) of Q1_0 R16M / Q2_0 R16 codes (nc chunks per row) expanded for
// r16x_pair into `out`: n·ks·512 bytes, row by row, byte 64s + j = weight j of step s.
template <bool Q1>
void expand_rows(const uint8_t* codes, int64_t nc, int64_t k0, int64_t ks, int64_t n, uint8_t* out) {
    constexpr int CB = Q1 ? 64 : 128;  // code bytes per chunk
    for (int64_t r = 0; r < n; ++r) {
        const uint8_t* cr = codes + (r * nc + k0) * CB;
        uint8_t* orow = out + r * ks * 512;
        for (int64_t c = 0; c < ks; ++c) {
            if constexpr (Q1) {
                const __m512i twos = _mm512_set1_epi8(2);
                for (int s = 0; s < 8; ++s) {
                    uint64_t bits;
                    std::memcpy(&bits, cr + c * 64 + 8 * s, 8);
                    _mm512_store_si512(orow + c * 512 + 64 * s, _mm512_maskz_mov_epi8(_cvtu64_mask64(bits), twos));
                }
            } else {
                const __m512i three = _mm512_set1_epi8(3);
                for (int s = 0; s < 8; ++s) {
                    const __m512i v = _mm512_loadu_si512(cr + c * 128 + (s < 4 ? 0 : 64));
                    _mm512_store_si512(orow + c * 512 + 64 * s,
                                       _mm512_and_si512(_mm512_srli_epi16(v, static_cast<unsigned>(2 * (s & 3))), three));
                }
            }
        }
    }
}

// Rows [ob, oe) (≤ 16) × tokens [t0, t0 + NT) × chunks [k0, k0 + ks) of Q1_0 R16M / Q2_0 R16 weights (nc
// chunks per row; codes and scales from row 0) whose rows [ob, oe) and these chunks were expanded into
// `exp`, with r16x_pair in token groups of ≤ 4; y[t·y_stride + o] is set (k0 == 0) or added to. An odd
// last row takes the one-row tile on its codes.
template <bool Q1, int NT>
void r16x_rows_prefill(const uint8_t* codes, const uint8_t* exp, const uint16_t* scales, int64_t nc, int64_t k0,
                       int64_t ks, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y, int64_t y_stride) {
    constexpr int G0 = NT > 4 ? 4 : NT, G1 = NT - G0, CB = Q1 ? 64 : 128, NS = Q1 ? 4 : 8;
    const uint8_t* xa[NT];
    for (int t = 0; t < NT; ++t) xa[t] = a.aux(t0 + t) + k0 * 640;
    const auto put = [&](int t, int64_t o, float v) {
        float& out = y[(t0 + t) * y_stride + o];
        out = k0 == 0 ? v : out + v;
    };
    int64_t o = ob;
    for (; o + 1 < oe; o += 2) {
        float r0[NT], r1[NT];
        const uint8_t* e0 = exp + (o - ob) * ks * 512;
        const uint16_t* s0 = scales + (o * nc + k0) * NS;
        r16x_pair<Q1, G0>(e0, e0 + ks * 512, s0, s0 + nc * NS, ks, xa, r0, r1);
        if constexpr (G1 > 0) r16x_pair<Q1, G1>(e0, e0 + ks * 512, s0, s0 + nc * NS, ks, xa + G0, r0 + G0, r1 + G0);
        for (int t = 0; t < NT; ++t) {
            put(t, o, r0[t]);
            put(t, o + 1, r1[t]);
        }
    }
    if (o < oe) {  // odd last row: the one-row tile
        float r[NT];
        if constexpr (Q1) {
            r16m_tile<NT>(codes + (o * nc + k0) * CB, scales + (o * nc + k0) * NS, ks, xa, r);
        } else {
            r16_tile<false, NT>(codes + (o * nc + k0) * CB, scales + (o * nc + k0) * NS, ks, xa, r);
        }
        for (int t = 0; t < NT; ++t) put(t, o, r[t]);
    }
}

// Chunks per pass of r16x_prefill_rows: 8 tokens' activations (8 · 4 · 640 = 20 KiB) and a row pair's
// expanded weights (4 KiB) stay in L1. One pass over whole 6144-wide rows was 12 % slower than the Q1_0
// mask tile; blocks of 64 tokens (activations from L2 instead of L3) made no difference.
constexpr int64_t kExpandChunks = 4;

// Rows [o0, o1) × all tokens of Q1_0 R16M / Q2_0 R16 codes and scales (row 0 at `codes` / `scales`):
// each block of 16 rows is expanded, kExpandChunks chunks at a time, into a per-thread buffer (32 KiB)
// and then multiplied with every token tile.
template <bool Q1>
void r16x_prefill_rows(const uint8_t* codes, const uint16_t* scales, int64_t nc, const Activations& a, int64_t o0,
                       int64_t o1, float* y, int64_t y_stride) {
    thread_local AlignedBuf buf;
    uint8_t* exp = buf.get(static_cast<size_t>(kRowBlockRows * kExpandChunks * 512));
    constexpr int CB = Q1 ? 64 : 128;
    for (int64_t ob = o0; ob < o1; ob += kRowBlockRows) {
        const int64_t oe = std::min(ob + kRowBlockRows, o1);
        for (int64_t k0 = 0; k0 < nc; k0 += kExpandChunks) {
            const int64_t ks = std::min(kExpandChunks, nc - k0);
            expand_rows<Q1>(codes + ob * nc * CB, nc, k0, ks, oe - ob, exp);
            for (int64_t t0 = 0; t0 < a.n_rows(); t0 += kMaxTile)
                with_tile_size<kMaxTile>(std::min<int64_t>(kMaxTile, a.n_rows() - t0), [&](auto nt) {
                    r16x_rows_prefill<Q1, decltype(nt)::value>(codes, exp, scales, nc, k0, ks, a, ob, oe, t0, y, y_stride);
                });
        }
    }
}

// TQ2_0 native blocks (qs[64], d) against NT Q8_K rows: element 128c + 32l + m is bits 2l of qs[32c + m].
template <int NT>
inline void tq2_tile(const uint8_t* wrow, int64_t nb, const uint8_t* const* ya, const int32_t* const* sums, float* out) {
    const __m512i three = _mm512_set1_epi8(3);
    __m512 facc[NT];
    for (int t = 0; t < NT; ++t) facc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wb = wrow + b * 66;
        const __m512i V = _mm512_loadu_si512(wb);
        uint16_t dh;
        std::memcpy(&dh, wb + 64, 2);
        const float dw = _cvtsh_ss(dh);
        __m512i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
            const __m512i wl = _mm512_and_si512(_mm512_srli_epi16(V, static_cast<unsigned>(2 * l)), three);
            for (int t = 0; t < NT; ++t) {
                const uint8_t* q = ya[t] + b * 292 + 4;
                const __m512i x = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * l))),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 128 + 32 * l)), 1);
                acc[t] = _mm512_dpbusd_epi32(acc[t], wl, x);
            }
        }
        for (int t = 0; t < NT; ++t) {
            float dx;
            std::memcpy(&dx, ya[t] + b * 292, 4);
            // Σ(q-1)·x = Σq·x - Σx: subtract the block's activation sum from lane 0 (exact).
            const __m512i s = _mm512_mask_sub_epi32(acc[t], 1, acc[t], _mm512_set1_epi32(sums[t][b]));
            facc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(dx * dw), facc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(facc[t]);
}

// TQ2_0 R16T (repack.h): R rows × NT tokens per call. Each 64-byte code vector holds 4 steps (2-bit
// planes); step s of a chunk is one vpdpbusd per (row, token) against the 64 contiguous activation bytes
// at taux + 64s, so one activation load feeds R rows and one decoded plane NT tokens. Lane i sums half
// i%2 of block i/2, so the float epilogue (times d_w·d_x) runs once per chunk.
// Small tiles split each accumulator into NA independent chains (vpdpbusd latency).
// Expanded: codes[r] holds the decoded codes (expand_r16t), one byte per weight, 2048 per chunk.
template <int R, int NT, bool Expanded = false>
inline void r16t_tile(const uint8_t* const* codes, const uint16_t* const* sc, int64_t nc, const uint8_t* const* xa,
                      float (*out)[NT]) {
    constexpr int NA = R * NT >= 4 ? 1 : R * NT >= 2 ? 2 : 4;
    const __m512i three = _mm512_set1_epi8(3);
    const __m512i idx = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    __m512 facc[R][NT];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < NT; ++t) facc[r][t] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nc; ++c) {
        // The first accumulator starts at -Σx of its lane (Activations::taux): Σ(q-1)·x = Σq·x - Σx.
        __m512i acc[R][NT][NA];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < NT; ++t)
                for (int k = 0; k < NA; ++k)
                    acc[r][t][k] = k == 0 ? _mm512_load_si512(xa[t] + c * 2176 + 2112) : _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int v = 0; v < 8; ++v) {
            __m512i V[R];
            if constexpr (!Expanded) {
                // Decode (decode_prefetch.h): TQ2_0 101.5 against 87.4 tok/s (as for Q2_0 in r16_tile).
                if constexpr (R == 1 && NT == 1) prefetch_ahead<64>(codes[0] + c * 512 + 64 * v);
                for (int r = 0; r < R; ++r) {
                    V[r] = _mm512_loadu_si512(codes[r] + c * 512 + 64 * v);
                    keep_in_register(V[r]);
                }
            }
#pragma GCC unroll 4
            for (int l = 0; l < 4; ++l) {
                __m512i wl[R];
                for (int r = 0; r < R; ++r) {
                    if constexpr (Expanded) {
                        wl[r] = _mm512_load_si512(codes[r] + c * 2048 + 64 * (4 * v + l));
                        keep_in_register(wl[r]);
                        continue;
                    }
                    // Decode (NA == 4): plane l unshifted (codes · 4^l), one op instead of two, scaled back
                    // in the epilogue (2-thread model decode on Zen 4: +5-15 % over shift + and).
                    if constexpr (NA == 4) {
                        wl[r] = _mm512_and_si512(V[r], _mm512_set1_epi8(static_cast<char>(3 << (2 * l))));
                    } else {
                        wl[r] = _mm512_and_si512(l == 0 ? V[r] : _mm512_srli_epi16(V[r], static_cast<unsigned>(2 * l)), three);
                    }
                }
                for (int t = 0; t < NT; ++t) {
                    __m512i x = _mm512_loadu_si512(xa[t] + c * 2176 + 64 * (4 * v + l));
                    if constexpr (R > 1) keep_in_register(x);
                    for (int r = 0; r < R; ++r) acc[r][t][l % NA] = _mm512_dpbusd_epi32(acc[r][t][l % NA], wl[r], x);
                }
            }
        }
        __m512 dw[R];
        for (int r = 0; r < R; ++r)
            dw[r] = _mm512_permutexvar_ps(
                idx, _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc[r] + c * 8)))));
        for (int t = 0; t < NT; ++t) {
            const __m512 dx = _mm512_load_ps(reinterpret_cast<const float*>(xa[t] + c * 2176 + 2048));
            for (int r = 0; r < R; ++r) {
                __m512i a = acc[r][t][0];
                for (int k = 1; k < NA; ++k) {
                    // NA == 4: chain k holds plane k only, scaled by 4^k: every product is a multiple of 4^k,
                    // so the arithmetic shift is exact (|chain| < 2^21, no overflow).
                    a = _mm512_add_epi32(a, NA == 4 && !Expanded ? _mm512_srai_epi32(acc[r][t][k], static_cast<unsigned>(2 * k)) : acc[r][t][k]);
                }
                facc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), _mm512_mul_ps(dw[r], dx), facc[r][t]);
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < NT; ++t) out[r][t] = _mm512_reduce_add_ps(facc[r][t]);
}

// Rows [o0, o1) × NT tokens of an R16T weight in groups of R rows (the rest one by one).
template <int R, int NT>
inline void r16t_row_group(const Weight& w, const uint8_t* const* xa, int64_t o0, int64_t o1, int64_t t0, float* y) {
    const int64_t nc = w.n_in / 2048, n_out = w.n_out;
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(w.data + n_out * nc * 512);
    int64_t o = o0;
    for (; o + R <= o1; o += R) {
        const uint8_t* codes[R];
        const uint16_t* sc[R];
        for (int r = 0; r < R; ++r) {
            codes[r] = w.data + (o + r) * nc * 512;
            sc[r] = scales + (o + r) * nc * 8;
        }
        float res[R][NT];
        r16t_tile<R, NT>(codes, sc, nc, xa, res);
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < NT; ++t) y[(t0 + t) * n_out + o + r] = res[r][t];
    }
    if constexpr (R > 1) {
        if (o < o1) r16t_row_group<1, NT>(w, xa, o, o1, t0, y);
    }
}

// Decode: one row at a time (a second row is a second memory stream and measured slower). Prefill:
// 2 rows × ≤ 4 tokens (Zen 4, one core, L2-resident: 2×4 1.27 cycles per vpdpbusd, 4×4 about the same,
// 2×8 1.4-1.6, 1-row tiles worse).
template <int NT>
void r16t_rows(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
    const uint8_t* xa[NT];
    for (int t = 0; t < NT; ++t) xa[t] = a.taux(t0 + t);
    if constexpr (NT == 1) {
        r16t_row_group<1, 1>(w, xa, ob, oe, t0, y);
    } else if constexpr (NT <= 4) {
        r16t_row_group<2, NT>(w, xa, ob, oe, t0, y);
    } else {
        r16t_row_group<2, 4>(w, xa, ob, oe, t0, y);
        r16t_row_group<2, NT - 4>(w, xa + 4, ob, oe, t0 + 4, y);
    }
}

template <bool Q1, int NT, bool Mask = false>
void r16_rows(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
    r16_row_walk<Q1, NT>(w, a, ob, oe, t0, y, [](const uint8_t* codes, const uint16_t* sc, int64_t nc, const uint8_t* const* xa, float* r) {
        if constexpr (Mask) {
            r16m_tile<NT>(codes, sc, nc, xa, r);
        } else {
            r16_tile<Q1, NT>(codes, sc, nc, xa, r);
        }
    });
}

template <int NT>
void tq2_rows(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
    const int64_t nb = w.n_in / 256, n_out = w.n_out;
    const uint8_t* ya[NT];
    const int32_t* sums[NT];
    for (int t = 0; t < NT; ++t) {
        ya[t] = a.row(t0 + t);
        sums[t] = reinterpret_cast<const int32_t*>(a.aux(t0 + t));
    }
    for (int64_t o = ob; o < oe; ++o) {
        float r[NT];
        tq2_tile<NT>(w.data + o * nb * 66, nb, ya, sums, r);
        for (int t = 0; t < NT; ++t) y[(t0 + t) * n_out + o] = r[t];
    }
}

// Blocks of 16 rows × up to kMaxTile tokens keep both the rows and the token tile in L1.
template <template <int> class Rows>
void drive(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    for_each_tile<kMaxTile>(o0, o1, a.n_rows(), [&](auto nt, int64_t ob, int64_t oe, int64_t t0) {
        Rows<decltype(nt)::value>::run(w, a, ob, oe, t0, y);
    });
}

template <int NT>
struct Q1Rows {
    static void run(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
        r16_rows<true, NT>(w, a, ob, oe, t0, y);
    }
};
template <int NT>
struct Q2Rows {
    static void run(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
        r16_rows<false, NT>(w, a, ob, oe, t0, y);
    }
};
template <int NT>
struct Tq2Rows {
    static void run(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
        tq2_rows<NT>(w, a, ob, oe, t0, y);
    }
};

void gemm_q1(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) { drive<Q1Rows>(w, a, o0, o1, y); }
// One token: the masked-load tile per row; more: r16x_prefill_rows.
void gemm_q1m(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    if (a.n_rows() == 1) return r16_rows<true, 1, true>(w, a, o0, o1, 0, y);
    const int64_t nc = w.n_in / 512;
    r16x_prefill_rows<true>(w.data, reinterpret_cast<const uint16_t*>(w.data + w.n_out * nc * 64), nc, a, o0, o1, y, w.n_out);
}

// One token: the one-row tile; more: r16x_prefill_rows (model pp512 on 2 threads, Zen 4: Q2_0 125 -> 170
// tok/s).
void gemm_q2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    if (a.n_rows() == 1) return drive<Q2Rows>(w, a, o0, o1, y);
    if (a.n_rows() > kAmxMinTokens && amx_kernels_enabled() && a.x128(0) != nullptr) return q2_0_r16_amx(w, a, o0, o1, y);
    const int64_t nc = w.n_in / 512;
    r16x_prefill_rows<false>(w.data, reinterpret_cast<const uint16_t*>(w.data + w.n_out * nc * 128), nc, a, o0, o1, y, w.n_out);
}
void gemm_tq2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) { drive<Tq2Rows>(w, a, o0, o1, y); }
// Chunk c of rows [0, n) of TQ2_0 R16T codes (nc chunks of 512 bytes per row) decoded into `out`: per
// row 2048 bytes, byte 64(4v + l) + j = plane l of code byte j of vector v (the order r16t_tile reads).
void expand_r16t(const uint8_t* codes, int64_t nc, int64_t c, int64_t n, uint8_t* out) {
    const __m512i three = _mm512_set1_epi8(3);
    for (int64_t r = 0; r < n; ++r)
        for (int v = 0; v < 8; ++v) {
            const __m512i V = _mm512_loadu_si512(codes + (r * nc + c) * 512 + 64 * v);
            for (int l = 0; l < 4; ++l)
                _mm512_store_si512(out + r * 2048 + 64 * (4 * v + l),
                                   _mm512_and_si512(_mm512_srli_epi16(V, static_cast<unsigned>(2 * l)), three));
        }
}

// Prompt batches of an R16T weight: each block of 16 rows is decoded one chunk (2048 weights) at a time
// into a per-thread buffer (32 KiB), which every token tile then reads: the tiles load planes instead of
// shifting and masking them on the vector ALUs that vpdpbusd and the epilogue share (as
// r16x_prefill_rows for Q1_0 and Q2_0). Later chunks add to y.
void r16t_prefill_rows(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t nc = w.n_in / 2048, n_out = w.n_out, n_tok = a.n_rows();
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(w.data + n_out * nc * 512);
    thread_local AlignedBuf buf;
    uint8_t* exp = buf.get(static_cast<size_t>(kRowBlockRows * 2048));
    for (int64_t ob = o0; ob < o1; ob += kRowBlockRows) {
        const int64_t oe = std::min(ob + kRowBlockRows, o1);
        for (int64_t c = 0; c < nc; ++c) {
            expand_r16t(w.data + ob * nc * 512, nc, c, oe - ob, exp);
            for (int64_t t0 = 0; t0 < n_tok; t0 += 4) {
                with_tile_size<4>(std::min<int64_t>(4, n_tok - t0), [&](auto nt) {
                    constexpr int NT = decltype(nt)::value;
                    const uint8_t* xa[NT];
                    for (int t = 0; t < NT; ++t) xa[t] = a.taux(t0 + t) + c * 2176;
                    const auto put = [&](int64_t o, const float* r) {
                        for (int t = 0; t < NT; ++t) {
                            float& out = y[(t0 + t) * n_out + o];
                            out = c == 0 ? r[t] : out + r[t];
                        }
                    };
                    int64_t o = ob;
                    for (; o + 2 <= oe; o += 2) {
                        const uint8_t* e[2] = {exp + (o - ob) * 2048, exp + (o + 1 - ob) * 2048};
                        const uint16_t* sc[2] = {scales + o * nc * 8 + c * 8, scales + (o + 1) * nc * 8 + c * 8};
                        float res[2][NT];
                        r16t_tile<2, NT, true>(e, sc, 1, xa, res);
                        put(o, res[0]);
                        put(o + 1, res[1]);
                    }
                    if (o < oe) {
                        const uint8_t* e[1] = {exp + (o - ob) * 2048};
                        const uint16_t* sc[1] = {scales + o * nc * 8 + c * 8};
                        float res[1][NT];
                        r16t_tile<1, NT, true>(e, sc, 1, xa, res);
                        put(o, res[0]);
                    }
                });
            }
        }
    }
}

template <int NT>
struct Tq2R16tRows {
    static void run(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y) {
        r16t_rows<NT>(w, a, ob, oe, t0, y);
    }
};
// Prompt batches of 2048-wide rows take r16t_prefill_rows (model pp512 on 2 threads, Zen 4: 171-177 ->
// 200-203 tok/s); wider rows keep the one-pass tile, which reduces once per row instead of once per
// chunk (with them decoded too: 183-186).
void gemm_tq2_r16t(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    if (a.n_rows() > kAmxMinTokens && amx_kernels_enabled()) return tq2_0_r16t_amx(w, a, o0, o1, y);
    if (a.n_rows() > 1 && w.n_in == 2048) return r16t_prefill_rows(w, a, o0, o1, y);
    drive<Tq2R16tRows>(w, a, o0, o1, y);
}

}  // namespace

void q1_0_r16m_prefill(const uint8_t* codes, const uint16_t* scales, int64_t n_in, const Activations& a, int64_t o0,
                       int64_t o1, float* y, int64_t y_stride) {
    r16x_prefill_rows<true>(codes, scales, n_in / 512, a, o0, o1, y, y_stride);
}

KernelTable avx512_kernels() {
    KernelTable k;
    k.q1_0_r16 = gemm_q1;
    k.q1_0_r16m = gemm_q1m;
    if (has_avx512_vbmi()) k.q1_0_r16l = q1_0_r16l_vbmi;
    k.q2_0_r16 = gemm_q2;
    k.tq2_0 = gemm_tq2;
    k.tq2_0_r16t = gemm_tq2_r16t;
    return k;
}

}  // namespace bonsai::cpu::detail
#else
namespace bonsai::cpu::detail {
KernelTable avx512_kernels() { return KernelTable{}; }  // not an x86 build
}  // namespace bonsai::cpu::detail
#endif
