// AVX2 table-lookup kernel for Q1_0 weights in Layout::R16L (repack.h), the AVX2 counterpart of
// kernels_avx512_vbmi.cpp; compiled alone with -mavx2 -mfma -mf16c.
//
// Why: the AVX2 R16 kernel spends a shift, a mask, a vpmaddubsw and a 16-bit add on every 32 weights and
// token (no VNNI), which kept one-token decoding compute-bound (~17 GB/s of Q1_0 weights on two Zen 4
// cores). Here the 4 weights of a quad select one of 16 precomputed signed sums of their 4 activations
// (vpshufb), so 512 weights (16 rows × one 32-element activation block) cost 8 lookups and their sums.
//
// vpshufb looks up 16-byte tables per 128-bit lane, so a lane must hold the nibbles of one quad for 16
// rows. An R16L vector (16 rows × 4 bytes; byte j of a row: quad j in the low nibble, quad j + 4 in the
// high one) is rearranged in registers into two: A = [byte 0 | byte 1] and B = [byte 2 | byte 3] of all
// rows, each lane in the row order P = 0 1 2 3 8 9 10 11 4 5 6 7 12 13 14 15 (a 4×4 byte transpose per
// lane, a dword unpack and a qword permute: shared by all tokens). The tables of a token and activation
// block (256 bytes, build_tables) hold, per quad q and nibble n, e = Σ_p (bit p of n ? x : -x)[4q + p] in
// [-508, 508] split into its low 5 bits (0..31) and e >> 5 (-16..15): the 4 lookups of a lane's low
// parts add up to at most 124 and its high parts to -64..60, both valid signed bytes, so one vpmaddubsw
// of the interleaved (low, high) bytes with (1, 32) gives each row's 16-bit sum (|Σ| ≤ 4064 after the
// lane halves are added). (7-bit low parts widened with unpacks and shifts: no faster than the R16
// kernel at one token on Zen 4.)
#include "backend/cpu/aligned_buf.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace bonsai::cpu::detail {
namespace {

constexpr int64_t kQ8Block = 36;      // Activations' Q8_0 block (matmul.cpp): f32 d, int8 q[32]
constexpr size_t kTableBytes = 256;   // per 32-element activation block and token
constexpr int64_t kChunkTokens = 64;  // tokens whose tables are built at once (64 × 48 KiB at most)
// Blocks per pass over a row range: their tables (of up to 4 tokens) stay in L1D. A 6144-wide row's are
// 48 KiB per token (the VBMI kernel measured +28 % from the same slicing at one token).
constexpr int64_t kSliceBytes = 16 << 10;

inline __m256i ld(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// The 256 table bytes of one Q8_0 block, for code vector k (0: A, 1: B) at 128k: [0, 32) low parts for
// the low nibbles (lane 0: quad 2k, lane 1: quad 2k + 1), [32, 64) low parts for the high nibbles (quads
// 2k + 4, 2k + 5), [64, 128) the high parts the same way.
void build_tables(const uint8_t* q8_row, uint8_t* tab, int64_t n_in) {
    // sign[p] lane n: +1 where bit p of n (the entry index; lanes 8-15 are entries 8-15) is set, else -1.
    __m256i sign[4];
    for (int p = 0; p < 4; ++p) {
        alignas(32) int16_t s[16];
        for (int n = 0; n < 16; ++n) s[n] = static_cast<int16_t>(((n >> p) & 1) ? 1 : -1);
        sign[p] = _mm256_load_si256(reinterpret_cast<const __m256i*>(s));
    }
    const __m256i low5 = _mm256_set1_epi16(0x1F);
    for (int64_t b = 0; b < n_in / 32; ++b) {
        const int8_t* x = reinterpret_cast<const int8_t*>(q8_row + kQ8Block * b + 4);
        __m256i e[8];  // the 16 entries of quad q as int16
        for (int q = 0; q < 8; ++q) {
            __m256i s = _mm256_sign_epi16(_mm256_set1_epi16(x[4 * q]), sign[0]);
            for (int p = 1; p < 4; ++p) s = _mm256_add_epi16(s, _mm256_sign_epi16(_mm256_set1_epi16(x[4 * q + p]), sign[p]));
            e[q] = s;
        }
        uint8_t* t = tab + kTableBytes * b;
        for (int k = 0; k < 2; ++k) {
            // (q, q') pairs: low nibbles quads 2k, 2k + 1; high nibbles quads 2k + 4, 2k + 5.
            for (int h = 0; h < 2; ++h) {
                const __m256i a = e[2 * k + 4 * h], c = e[2 * k + 1 + 4 * h];
                // packs interleave the lanes: [a 0-7, c 0-7 | a 8-15, c 8-15] -> qwords 0 2 1 3.
                const __m256i lo = _mm256_permute4x64_epi64(
                    _mm256_packus_epi16(_mm256_and_si256(a, low5), _mm256_and_si256(c, low5)), 0xD8);
                const __m256i hi = _mm256_permute4x64_epi64(
                    _mm256_packs_epi16(_mm256_srai_epi16(a, 5), _mm256_srai_epi16(c, 5)), 0xD8);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(t + 128 * k + 32 * h), lo);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(t + 128 * k + 64 + 32 * h), hi);
            }
        }
    }
}

// Rows 16rb .. 16rb + 15 (codes of nb blocks, scales of nb/4 groups) against NT tokens: out[t][0] the
// results of rows kEvenRows, out[t][1] of rows kOddRows (below).
//
// Epilogue: each lookup sum e (int16, rows in the order P, one half of the byte columns per lane) is
// completed by one lane-crossing add (rows P0-7 | P8-15) and widened in-lane (even and odd positions by
// shifts) rather than by two extracts and two sign extensions (Zen 3, AVX2 only, one token, 1 thread,
// best of 6 alternated rounds: 142.6 / 146.4 / 144.1 -> 146.4 / 150.1 / 147.1 GFLOP/s on the 1.7B
// shapes; also summing each group's 4 blocks before its scale measured no better).
constexpr int kEvenRows[8] = {0, 2, 8, 10, 4, 6, 12, 14};
constexpr int kOddRows[8] = {1, 3, 9, 11, 5, 7, 13, 15};

template <int NT>
inline void table_block(const uint8_t* codes, const uint8_t* next, const uint16_t* scales, int64_t nb,
                        const uint8_t* const* tabs, const uint8_t* const* q8, __m256* out) {
    // Per lane, 4 rows × 4 bytes -> byte j of the 4 rows, for j = 0..3.
    const __m256i tr4 = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2,
                                         6, 10, 14, 3, 7, 11, 15);
    const __m256i low4 = _mm256_set1_epi8(0x0F), k1_32 = _mm256_set1_epi16(0x2001);  // u8 pairs (1, 32)
    __m256 f[NT][2];
    for (int t = 0; t < NT; ++t) f[t][0] = f[t][1] = _mm256_setzero_ps();
    for (int64_t g = 0; g < nb / 4; ++g) {
        // Scales of rows 0-7 and 8-15, then in the order of kEvenRows and kOddRows.
        const __m256 s0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * g)));
        const __m256 s1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * g + 8)));
        const __m256 dw[2] = {_mm256_shuffle_ps(s0, s1, _MM_SHUFFLE(2, 0, 2, 0)), _mm256_shuffle_ps(s0, s1, _MM_SHUFFLE(3, 1, 3, 1))};
        for (int64_t b = 4 * g; b < 4 * g + 4; ++b) {
            if constexpr (NT == 1) _mm_prefetch(reinterpret_cast<const char*>(next + 64 * b), _MM_HINT_T1);  // r16l_next_codes
            const __m256i v0 = _mm256_shuffle_epi8(ld(codes + 64 * b), tr4);       // rows 0-3 | 4-7
            const __m256i v1 = _mm256_shuffle_epi8(ld(codes + 64 * b + 32), tr4);  // rows 8-11 | 12-15
            const __m256i va = _mm256_permute4x64_epi64(_mm256_unpacklo_epi32(v0, v1), 0xD8);  // byte 0 | byte 1
            const __m256i vb = _mm256_permute4x64_epi64(_mm256_unpackhi_epi32(v0, v1), 0xD8);  // byte 2 | byte 3
            const __m256i nal = _mm256_and_si256(va, low4), nah = _mm256_and_si256(_mm256_srli_epi16(va, 4), low4);
            const __m256i nbl = _mm256_and_si256(vb, low4), nbh = _mm256_and_si256(_mm256_srli_epi16(vb, 4), low4);
            for (int t = 0; t < NT; ++t) {
                const uint8_t* tb = tabs[t] + kTableBytes * b;
                // Per lane (byte column 0 / 1 with 2 / 3 added): the low and high parts of 4 quads per row.
                const __m256i lo = _mm256_add_epi8(
                    _mm256_add_epi8(_mm256_shuffle_epi8(ld(tb), nal), _mm256_shuffle_epi8(ld(tb + 32), nah)),
                    _mm256_add_epi8(_mm256_shuffle_epi8(ld(tb + 128), nbl), _mm256_shuffle_epi8(ld(tb + 160), nbh)));
                const __m256i hi = _mm256_add_epi8(
                    _mm256_add_epi8(_mm256_shuffle_epi8(ld(tb + 64), nal), _mm256_shuffle_epi8(ld(tb + 96), nah)),
                    _mm256_add_epi8(_mm256_shuffle_epi8(ld(tb + 192), nbl), _mm256_shuffle_epi8(ld(tb + 224), nbh)));
                // low + 32·high per row: e0 = rows P0-7 in both lanes (the two halves of the byte columns),
                // e1 = rows P8-15; then each row's two halves added: [P0-7 | P8-15].
                const __m256i e0 = _mm256_maddubs_epi16(k1_32, _mm256_unpacklo_epi8(lo, hi));
                const __m256i e1 = _mm256_maddubs_epi16(k1_32, _mm256_unpackhi_epi8(lo, hi));
                const __m256i e = _mm256_add_epi16(_mm256_permute2x128_si256(e0, e1, 0x20), _mm256_permute2x128_si256(e0, e1, 0x31));
                // Even positions (rows kEvenRows) and odd ones (kOddRows) as int32.
                const __m256i ev = _mm256_srai_epi32(_mm256_slli_epi32(e, 16), 16), od = _mm256_srai_epi32(e, 16);
                float dx;
                std::memcpy(&dx, q8[t] + kQ8Block * b, 4);
                const __m256 vdx = _mm256_set1_ps(dx);
                f[t][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ev), _mm256_mul_ps(dw[0], vdx), f[t][0]);
                f[t][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(od), _mm256_mul_ps(dw[1], vdx), f[t][1]);
            }
        }
    }
    for (int t = 0; t < NT; ++t) {
        out[2 * t] = f[t][0];
        out[2 * t + 1] = f[t][1];
    }
}

}  // namespace

void q1_0_r16l_avx2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t nb = w.n_in / 32, n_out = w.n_out, n_tok = a.n_rows();
    const R16LView<const uint8_t> view{w.data, nb, n_out / 16};
    const size_t per_tok = static_cast<size_t>(nb) * kTableBytes;
    // This thread's tables: built once per Activations::prepare when all tokens fit one chunk (the row
    // grains of a matmul and the matmuls sharing an input reuse them), per call otherwise.
    thread_local DerivedBuf cache;
    const uint64_t generation = n_tok > kChunkTokens ? 0 : a.generation();  // several chunks: never cached
    for (int64_t c0 = 0; c0 < n_tok; c0 += kChunkTokens) {
        const int64_t nc = std::min(kChunkTokens, n_tok - c0);
        uint8_t* tables = cache.buf.get(per_tok * static_cast<size_t>(nc));
        if (cache.stale(generation, c0))
            for (int64_t t = 0; t < nc; ++t) build_tables(a.row(c0 + t), tables + per_tok * static_cast<size_t>(t), w.n_in);
        const int64_t slice = r16l_pass_blocks(kSliceBytes, kTableBytes, std::min<int64_t>(4, nc));
        for (int64_t s0 = 0; s0 < nb; s0 += slice) {  // later slices add to y
            const int64_t ns = std::min(slice, nb - s0);
            for (int64_t rb = o0 / 16; rb * 16 < o1; ++rb) {
                // Rows of this block inside [o0, o1): the block is computed whole, only those are stored.
                const int64_t r0 = std::max<int64_t>(o0, 16 * rb) - 16 * rb, r1 = std::min<int64_t>(o1, 16 * rb + 16) - 16 * rb;
                const uint8_t* cb = view.codes(rb, s0);
                const uint8_t* next = r16l_next_codes(view, rb, o0, o1, s0, ns);
                const uint16_t* sb = view.scales(rb, s0);
                for (int64_t t0 = 0; t0 < nc; t0 += 4) {  // groups of up to 4 tokens; the codes stay in L1
                    const int64_t nt = std::min<int64_t>(4, nc - t0);
                    const uint8_t* tabs[4];
                    const uint8_t* q8[4];
                    for (int64_t t = 0; t < nt; ++t) {
                        tabs[t] = tables + per_tok * static_cast<size_t>(t0 + t) + kTableBytes * static_cast<size_t>(s0);
                        q8[t] = a.row(c0 + t0 + t) + kQ8Block * s0;
                    }
                    __m256 res[8];
                    switch (nt) {
                        case 1: table_block<1>(cb, next, sb, ns, tabs, q8, res); break;
                        case 2: table_block<2>(cb, next, sb, ns, tabs, q8, res); break;
                        case 3: table_block<3>(cb, next, sb, ns, tabs, q8, res); break;
                        default: table_block<4>(cb, next, sb, ns, tabs, q8, res); break;
                    }
                    for (int64_t t = 0; t < nt; ++t) {
                        // Back to row order.
                        alignas(32) float ev[8], od[8], v[16];
                        _mm256_store_ps(ev, res[2 * t]);
                        _mm256_store_ps(od, res[2 * t + 1]);
                        for (int i = 0; i < 8; ++i) {
                            v[kEvenRows[i]] = ev[i];
                            v[kOddRows[i]] = od[i];
                        }
                        float* out = y + (c0 + t0 + t) * n_out + 16 * rb;
                        for (int64_t r = r0; r < r1; ++r) out[r] = s0 == 0 ? v[r] : out[r] + v[r];
                    }
                }
            }
        }
    }
}

}  // namespace bonsai::cpu::detail
#else
#include "bonsai/error.h"
namespace bonsai::cpu::detail {
// Not an x86 build: active_isa() is never Avx2 there.
void q1_0_r16l_avx2(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: the AVX2 Q1_0 table kernel called on a build without AVX2");
}
}  // namespace bonsai::cpu::detail
#endif
