// AVX-512 VBMI kernel for Q1_0 weights in Layout::R16L (repack.h): table lookup for decode-sized batches,
// a per-row-block conversion to R16M for prompt batches. This file alone is compiled with -mavx512vbmi
// (CMakeLists.txt); avx512_kernels() hands it out only when has_avx512_vbmi() (Skylake-SP and Cascade
// Lake have AVX-512 VNNI but no VBMI).
//
// Why tables: for one token the R16M kernel spends a mask load, a masked activation load and a vpdpbusd
// on every 64 weights, ~11 GB/s of weights per Zen 4 core; a decode step streams every weight once, so
// that rate, not memory, bounded Q1_0 decoding. Here a 64-byte vector holds 16 rows × 32 weights of one
// activation block; its 128 nibbles index per-token tables of the signed sums of 4 activations: 4 vpermb
// (low and high parts of the sums of quads 0-3 and 4-7), 2 byte adds and 2 vpdpbusd give the 16 rows'
// exact integer dot products with the block (~20 GB/s per core, streaming from DRAM). Sums are exact, so
// results equal the scalar kernels up to float summation order.
#include "backend/cpu/aligned_buf.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && defined(__AVX512VBMI__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace bonsai::cpu::detail {
namespace {

// Batches of up to this many tokens use the tables, in groups of 4 per pass over a row block (whose codes
// stay in L1 between groups); larger ones convert to R16M. bonsai-bench-prefill, 2 threads, Zen 4: tables
// 550-660 GFLOP/s at 8-16 tokens against 410-510 for the conversion; at 64 tokens even, at 512 the
// tables of every token no longer fit L2 (300-400 against 440-520, and no model pp512 gain with token
// blocking).
constexpr int kTableTokens = 16;
constexpr int64_t kQ8Block = 36;  // Activations' Q8_0 block (matmul.cpp): f32 d, int8 q[32]
constexpr size_t kTableBytes = 256;  // per 32-element activation block and token
constexpr int64_t kTableSliceBytes = 16 << 10;  // tables per pass over a row range (half of a 32 KiB L1D)

// The tables of one Q8_0 row of n_in elements: per block b, 256 bytes at 256b: [0, 64) low parts of the
// sums of quads 0-3 (entry 16q + n = Σ_p (bit p of n ? x : -x)[4q + p]), [64, 128) those of quads 4-7,
// [128, 256) the high parts the same way. A sum e lies in [-508, 508] and is stored as its low 7 bits
// (0..127) and e >> 7 (-4..3): the low parts of two quads still add up inside one unsigned byte and the
// high parts inside a signed one, so a row's 8 quads cost 2 byte adds and 2 vpdpbusd.
void build_tables(const uint8_t* q8_row, uint8_t* tab, int64_t n_in) {
    // Lane L of the int16 vector of quad pair p is quad q = 2p + L / 16, nibble n = L % 16.
    alignas(64) uint16_t idx[4][4][32];  // [p][i][L]: index of x[4q + i] among the block's 32
    __mmask32 bit[4];
    for (int i = 0; i < 4; ++i) {
        uint32_t m = 0;
        for (int L = 0; L < 32; ++L) m |= static_cast<uint32_t>(((L % 16) >> i) & 1) << L;
        bit[i] = m;
        for (int p = 0; p < 4; ++p)
            for (int L = 0; L < 32; ++L) idx[p][i][L] = static_cast<uint16_t>(4 * (2 * p + L / 16) + i);
    }
    const __m512i low7 = _mm512_set1_epi16(0x7F);
    for (int64_t b = 0; b < n_in / 32; ++b) {
        const __m512i x = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8_row + kQ8Block * b + 4)));
        uint8_t* t = tab + kTableBytes * b;
        for (int p = 0; p < 4; ++p) {
            __m512i s = _mm512_setzero_si512(), plus = _mm512_setzero_si512();
            for (int i = 0; i < 4; ++i) {
                const __m512i xi = _mm512_permutexvar_epi16(_mm512_load_si512(idx[p][i]), x);
                s = _mm512_add_epi16(s, xi);
                plus = _mm512_mask_add_epi16(plus, bit[i], plus, xi);
            }
            const __m512i e = _mm512_sub_epi16(_mm512_slli_epi16(plus, 1), s);  // 2Σ_{bits} x - Σx
            // Quad pair p = quads 2p, 2p + 1: bytes 32p .. 32p + 31 of the low tables, the same of the high.
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(t + 32 * p), _mm512_cvtepi16_epi8(_mm512_and_si512(e, low7)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(t + 128 + 32 * p), _mm512_cvtepi16_epi8(_mm512_srai_epi16(e, 7)));
        }
    }
}

// This thread's tables of all tokens of `a`, built once per Activations::prepare (the row grains of a
// matmul and the matmuls sharing an input reuse them).
const uint8_t* thread_tables(const Activations& a) {
    thread_local DerivedBuf tables;
    const size_t per_tok = static_cast<size_t>(a.n_in() / 32) * kTableBytes;
    uint8_t* t = tables.buf.get(per_tok * static_cast<size_t>(a.n_rows()));
    if (tables.stale(a.generation(), 0))
        for (int64_t r = 0; r < a.n_rows(); ++r) build_tables(a.row(r), t + per_tok * static_cast<size_t>(r), a.n_in());
    return t;
}

// Rows 16rb .. 16rb + 15 against NT tokens; out[t] = the 16 rows' results of token t.
template <int NT>
inline void table_block(const uint8_t* codes, const uint8_t* next, const uint16_t* scales, int64_t nb,
                        const uint8_t* const* tabs, const uint8_t* const* q8, __m512* out) {
    const __m512i ones = _mm512_set1_epi8(1), low4 = _mm512_set1_epi8(0x0F), c128 = _mm512_set1_epi8(static_cast<char>(0x80));
    const __m512i quad = _mm512_set1_epi32(0x30201000);  // byte j of each dword: j << 4 (the table of quad j)
    __m512 f[NT];
    for (int t = 0; t < NT; ++t) f[t] = _mm512_setzero_ps();
    for (int64_t g = 0; g < nb / 4; ++g) {
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales + 16 * g)));
#pragma GCC unroll 4
        for (int64_t b = 4 * g; b < 4 * g + 4; ++b) {
            // Decode streams the codes once: ask for those of the block processed next into L2
            // (r16l_next_codes). Slices of the 6144-wide down projection used to ask for the same block's
            // next slice instead, the data of a later pass: 2-thread model decode +2-3 % with `next`. 2-thread model decode on Zen 4: 92-98 tok/s
            // with 2 KiB ahead into L1 (the R16M kernel's choice), 105-116 with 4 KiB into L2; 3, 5 and
            // 6 KiB, or 8 KiB, no better.
            if constexpr (NT == 1) _mm_prefetch(reinterpret_cast<const char*>(next + 64 * b), _MM_HINT_T1);
            const __m512i c = _mm512_loadu_si512(codes + 64 * b);
            const __m512i il = _mm512_ternarylogic_epi32(c, low4, quad, 0xEA);  // (c & 0x0F) | j << 4
            const __m512i ih = _mm512_ternarylogic_epi32(_mm512_srli_epi16(c, 4), low4, quad, 0xEA);
            for (int t = 0; t < NT; ++t) {
                const uint8_t* tb = tabs[t] + kTableBytes * b;
                const __m512i l0 = _mm512_permutexvar_epi8(il, _mm512_load_si512(tb));
                const __m512i l1 = _mm512_permutexvar_epi8(ih, _mm512_load_si512(tb + 64));
                const __m512i h0 = _mm512_permutexvar_epi8(il, _mm512_load_si512(tb + 128));
                const __m512i h1 = _mm512_permutexvar_epi8(ih, _mm512_load_si512(tb + 192));
                // Σ low parts (unsigned, ≤ 254 per byte) + 128 · Σ high parts (signed, -8..6 per byte).
                const __m512i lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_add_epi8(l0, l1), ones);
                const __m512i sum = _mm512_dpbusd_epi32(lo, c128, _mm512_add_epi8(h0, h1));
                float dx;
                std::memcpy(&dx, q8[t] + kQ8Block * b, 4);
                f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(dw, _mm512_set1_ps(dx)), f[t]);
            }
        }
    }
    for (int t = 0; t < NT; ++t) out[t] = f[t];
}

// Rows [o0, o1) × tokens of `a` (n_rows ≤ kTableTokens) by table lookup. Long rows go in slices of K
// whose tables fit L1 (kTableSliceBytes): every row block of the range passes over one slice before the
// next slice starts, and the later slices add to y. A 6144-wide row's tables are 48 KiB per token, more
// than Zen 4's 32 KiB L1D: then 4 table loads per 64 code bytes came from L2 (bonsai-bench-prefill, one
// thread, 1 token: 6144×2048 at 294 GFLOP/s against 377 for the 2048-wide rows).
void table_rows(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t nb = w.n_in / 32, n_out = w.n_out, n_tok = a.n_rows();
    const R16LView<const uint8_t> view{w.data, nb, n_out / 16};
    const uint8_t* tables = thread_tables(a);
    const size_t per_tok = static_cast<size_t>(nb) * kTableBytes;
    const int64_t slice = r16l_pass_blocks(kTableSliceBytes, kTableBytes, std::min<int64_t>(4, n_tok));
    for (int64_t s0 = 0; s0 < nb; s0 += slice) {
        const int64_t ns = std::min(slice, nb - s0);
        for (int64_t rb = o0 / 16; rb * 16 < o1; ++rb) {
            // Rows of this block inside [o0, o1): the block is computed whole, only those are stored.
            const int64_t r0 = std::max<int64_t>(o0, 16 * rb), r1 = std::min<int64_t>(o1, 16 * rb + 16);
            const auto keep = static_cast<__mmask16>(((1u << (r1 - 16 * rb)) - 1) & ~((1u << (r0 - 16 * rb)) - 1));
            const uint8_t* cb = view.codes(rb, s0);
            const uint8_t* next = r16l_next_codes(view, rb, o0, o1, s0, ns);
            const uint16_t* sb = view.scales(rb, s0);
            // Groups of up to 4 tokens; the block's codes stay in L1 between groups.
            for (int64_t t0 = 0; t0 < n_tok; t0 += 4) {
                const int64_t nt = std::min<int64_t>(4, n_tok - t0);
                const uint8_t* tabs[4];
                const uint8_t* q8[4];
                for (int64_t t = 0; t < nt; ++t) {
                    tabs[t] = tables + per_tok * static_cast<size_t>(t0 + t) + kTableBytes * static_cast<size_t>(s0);
                    q8[t] = a.row(t0 + t) + kQ8Block * s0;
                }
                __m512 res[4];
                switch (nt) {
                    case 1: table_block<1>(cb, next, sb, ns, tabs, q8, res); break;
                    case 2: table_block<2>(cb, next, sb, ns, tabs, q8, res); break;
                    case 3: table_block<3>(cb, next, sb, ns, tabs, q8, res); break;
                    default: table_block<4>(cb, next, sb, ns, tabs, q8, res); break;
                }
                for (int64_t t = 0; t < nt; ++t) {
                    float* out = y + (t0 + t) * n_out + 16 * rb;
                    if (s0 > 0) res[t] = _mm512_add_ps(res[t], _mm512_maskz_loadu_ps(keep, out));
                    _mm512_mask_storeu_ps(out, keep, res[t]);
                }
            }
        }
    }
}

// Row block rb of an R16L weight rewritten as a 16-row R16M weight (repack.h) into `out`: 16·nc·64 code
// bytes, then 16·nc·4 fp16 scales. R16M byte 8s + k of (row r, chunk c) holds nibble s of blocks 16c + 2k
// (low) and 16c + 2k + 1 (high), i.e. from R16L vectors V_i = (rb, 16c + i), byte 4r + s % 4, nibble s / 4.
void to_mask_block(const Weight& w, int64_t rb, uint8_t* out) {
    const int64_t nc = w.n_in / 512;
    const R16LView<const uint8_t> view{w.data, w.n_in / 32, w.n_out / 16};
    uint16_t* out_scales = reinterpret_cast<uint16_t*>(out + 16 * nc * 64);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    // perm[8s + k]: byte of the transposed vector T_r (dword m = A_m, then B_{m-8}, of row r) that feeds
    // byte k of step s's mask.
    alignas(64) uint8_t perm_bytes[64];
    for (int s = 0; s < 8; ++s)
        for (int k = 0; k < 8; ++k) perm_bytes[8 * s + k] = static_cast<uint8_t>(s < 4 ? 4 * k + s : 4 * (8 + k) + s - 4);
    const __m512i perm = _mm512_load_si512(perm_bytes);
    alignas(64) uint32_t ab[16][16];  // [m][r]: A_0..A_7, B_0..B_7 as 16 dwords (one per row)
    alignas(64) uint32_t tr[16];
    for (int64_t c = 0; c < nc; ++c) {
        for (int k = 0; k < 8; ++k) {
            const uint8_t* v = view.codes(rb, 16 * c + 2 * k);  // and block 16c + 2k + 1 right after it
            const __m512i v0 = _mm512_loadu_si512(v);
            const __m512i v1 = _mm512_loadu_si512(v + 64);
            // A: low nibbles (quads 0-3) of block 2k | of block 2k + 1 << 4; B: the high nibbles (quads 4-7).
            const __m512i a = _mm512_ternarylogic_epi32(low4, v0, _mm512_slli_epi16(v1, 4), 0xCA);
            const __m512i b = _mm512_ternarylogic_epi32(low4, _mm512_srli_epi16(v0, 4), v1, 0xCA);
            _mm512_store_si512(ab[k], a);
            _mm512_store_si512(ab[8 + k], b);
        }
        for (int r = 0; r < 16; ++r) {
            for (int m = 0; m < 16; ++m) tr[m] = ab[m][r];
            _mm512_storeu_si512(out + (r * nc + c) * 64, _mm512_permutexvar_epi8(perm, _mm512_load_si512(tr)));
            for (int k4 = 0; k4 < 4; ++k4) out_scales[(r * nc + c) * 4 + k4] = view.scales(rb, 16 * c + 4 * k4)[r];
        }
    }
}

// Rows [o0, o1) of a prompt batch: each 16-row block becomes a 16-row R16M weight in a per-thread buffer,
// which the R16M prefill kernel then multiplies with every token (the conversion costs one pass over the
// block's 16·n_in/8 code bytes, against 16·n_in·n_tok/64 vpdpbusd).
void mask_rows(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    thread_local AlignedBuf block_buf;
    const int64_t nc = w.n_in / 512;
    uint8_t* block = block_buf.get(static_cast<size_t>(16 * nc * 64 + 16 * nc * 4 * 2));
    const auto* block_scales = reinterpret_cast<const uint16_t*>(block + 16 * nc * 64);
    for (int64_t rb = o0 / 16; rb * 16 < o1; ++rb) {
        const int64_t r0 = std::max<int64_t>(o0, 16 * rb) - 16 * rb, r1 = std::min<int64_t>(o1, 16 * rb + 16) - 16 * rb;
        to_mask_block(w, rb, block);
        q1_0_r16m_prefill(block, block_scales, w.n_in, a, r0, r1, y + 16 * rb, w.n_out);
    }
}

}  // namespace

void q1_0_r16l_vbmi(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    if (a.n_rows() <= kTableTokens) {
        table_rows(w, a, o0, o1, y);
    } else if (amx_kernels_enabled() && a.x128(0) != nullptr) {
        q1_0_r16l_amx(w, a, o0, o1, y);
    } else {
        mask_rows(w, a, o0, o1, y);
    }
}

}  // namespace bonsai::cpu::detail
#else
#include "bonsai/error.h"
namespace bonsai::cpu::detail {
// Not an x86 build: has_avx512_vbmi() is false there, so this is never called.
void q1_0_r16l_vbmi(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: the Q1_0 table kernel needs AVX-512 VBMI");
}
}  // namespace bonsai::cpu::detail
#endif
