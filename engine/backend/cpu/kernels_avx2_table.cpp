// AVX2 table-lookup kernels: Q1_0 weights in Layout::R32L (repack.h), the AVX2 counterpart of
// kernels_avx512_vbmi.cpp, and TQ2_0 weights in Layout::R32T (second part of this file); compiled alone
// with -mavx2 -mfma -mf16c (and GCC's pressure-aware scheduling: CMakeLists.txt).
//
// Why: the AVX2 R16 kernel spends a shift, a mask, a vpmaddubsw and a 16-bit add on every 32 weights and
// token (no VNNI), which kept one-token decoding compute-bound (~17 GB/s of Q1_0 weights on two Zen 4
// cores). Here the 4 weights of a quad select one of 16 precomputed signed sums of their 4 activations
// (vpshufb), so 1024 weights (32 rows × one 32-element activation block) cost 16 lookups and their sums.
//
// vpshufb looks up 16-byte tables per 128-bit lane. An R32L code vector holds one byte column j of 32
// rows (quad j in the low nibbles, quad j + 4 in the high ones; lane 0 and lane 1 are different rows), so
// the table of one quad, loaded into both lanes, serves all 32 rows. The tables of a token and activation
// block (256 bytes, q1_0_tables_avx2: 32 per quad q at 32q) hold, per nibble n, e = Σ_p (bit p of n ? x :
// -x)[4q + p] in [-508, 508] split into a low part (e & 31) - 16 (-16..15) and a high part e >> 5
// (-16..15): the 8 lookups of a row's block add up to -128..120 in each, valid signed bytes, so one
// vpmaddubsw of the interleaved (low, high) bytes with (1, 32) gives each row's 16-bit sum less 8·16.
//
// Activation scales in integers: Q8_0 activations carry one scale d per 32 values, and the quantizer
// makes the 4 scales of a 128-element group whole multiples k·u of one unit u (q8_0_group_units in
// row_ops_detail.h). One vpmaddwd of two blocks' interleaved 16-bit sums with (k_b, k_b+1) then scales
// and adds them exactly in int32 (|e|·k < 2^27), widening them on the way; the float conversion, the
// group's u, the weight scale and the 8·16 offset (128·Σk, added to the int32 start) come once per
// group. The int32 lanes hold rows 0-7, 8-15, 16-23, 24-31 by R32L's byte order (r32l_pos).
//
// Against the R16L kernel it replaced (16-row vectors: a 4×4 byte transpose, a dword unpack and a qword
// permute per block, and a lane-crossing add per token): 20.6 -> 14.1 cycles per 512 weights and token
// with everything in L1 (Zen 3, one token), and 11.9 with the integer scales instead of a float
// conversion and scale per block.
#include "backend/cpu/aligned_buf.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/tile_loop.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/decode_prefetch.h"

namespace bonsai::cpu::detail {
namespace {

constexpr int64_t kQ8Block = 36;      // Activations' Q8_0 block (matmul.cpp): f32 d, int8 q[32]
constexpr size_t kTableBytes = 256;   // per 32-element activation block and token
// After a row's nb·kTableBytes table bytes, one record per 4-block group (GroupScales).
struct GroupScales {
    int16_t k[4];  // block b's activation scale = k[b % 4]·u
    float u;
    int32_t bias;  // 128·Σk: the lookups' 8·16 offset, scaled
};
static_assert(sizeof(GroupScales) == 16 && q1_table_bytes(128) == 4 * kTableBytes + sizeof(GroupScales));
// Tokens whose tables a thread builds at once when the activations came without them (64 × 48 KiB at most).
constexpr int64_t kChunkTokens = 64;
constexpr int kRows = 32;             // rows per R32L block
// Blocks per pass over a row range: their tables (of up to 2 tokens) stay in L1D. A 6144-wide row's are
// 48 KiB per token (the VBMI kernel measured +28 % from the same slicing at one token).
constexpr int64_t kSliceBytes = 16 << 10;

inline __m256i ld(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
// 16 table bytes in both lanes.
inline __m256i ld2(const uint8_t* p) { return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

// Rows 32rb .. 32rb + 31 (codes of nb blocks, scales of nb/4 groups) against NT tokens (tables tabs[t],
// group records gs[t]): out[4t + k] the results of rows 8k .. 8k + 7 of token t.
template <int NT>
inline void table_block(const uint8_t* codes, const uint8_t* next, const uint16_t* scales, int64_t nb,
                        const uint8_t* const* tabs, const GroupScales* const* gs, __m256* out) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), k1_32 = _mm256_set1_epi16(0x2001);  // u8 pairs (1, 32)
    __m256 f[NT][4];
    for (int t = 0; t < NT; ++t)
        for (int k = 0; k < 4; ++k) f[t][k] = _mm256_setzero_ps();
    for (int64_t g = 0; g < nb / 4; ++g) {
        __m256i acc[NT][4];
        for (int t = 0; t < NT; ++t)
            for (int k = 0; k < 4; ++k) acc[t][k] = _mm256_set1_epi32(gs[t][g].bias);
        for (int64_t b = 4 * g; b < 4 * g + 4; b += 2) {
            __m256i e[2][NT][2];  // block b + u, token t: 16-bit sums of bytes 0-7 | 16-23 and 8-15 | 24-31
            for (int u = 0; u < 2; ++u) {
                if constexpr (NT == 1) {  // r16l_next_codes: the same block of the next row block (2 lines)
                    _mm_prefetch(reinterpret_cast<const char*>(next + 128 * (b + u)), _MM_HINT_T1);
                    _mm_prefetch(reinterpret_cast<const char*>(next + 128 * (b + u) + 64), _MM_HINT_T1);
                }
                __m256i lo[NT], hi[NT];
#pragma GCC unroll 4
                for (int j = 0; j < 4; ++j) {
                    const __m256i v = ld(codes + 128 * (b + u) + 32 * j);
                    const __m256i nl = _mm256_and_si256(v, low4), nh = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
                    for (int t = 0; t < NT; ++t) {
                        const uint8_t* tb = tabs[t] + kTableBytes * (b + u);
                        const __m256i l = _mm256_add_epi8(_mm256_shuffle_epi8(ld2(tb + 32 * j), nl),
                                                          _mm256_shuffle_epi8(ld2(tb + 32 * j + 128), nh));
                        const __m256i h = _mm256_add_epi8(_mm256_shuffle_epi8(ld2(tb + 32 * j + 16), nl),
                                                          _mm256_shuffle_epi8(ld2(tb + 32 * j + 144), nh));
                        lo[t] = j ? _mm256_add_epi8(lo[t], l) : l;
                        hi[t] = j ? _mm256_add_epi8(hi[t], h) : h;
                    }
                }
                for (int t = 0; t < NT; ++t) {  // low + 32·high per row
                    e[u][t][0] = _mm256_maddubs_epi16(k1_32, _mm256_unpacklo_epi8(lo[t], hi[t]));
                    e[u][t][1] = _mm256_maddubs_epi16(k1_32, _mm256_unpackhi_epi8(lo[t], hi[t]));
                }
            }
            for (int t = 0; t < NT; ++t) {
                int32_t pair;  // (k_b, k_b+1)
                std::memcpy(&pair, gs[t][g].k + (b - 4 * g), 4);
                const __m256i kp = _mm256_set1_epi32(pair);
                acc[t][0] = _mm256_add_epi32(acc[t][0], _mm256_madd_epi16(_mm256_unpacklo_epi16(e[0][t][0], e[1][t][0]), kp));
                acc[t][1] = _mm256_add_epi32(acc[t][1], _mm256_madd_epi16(_mm256_unpackhi_epi16(e[0][t][0], e[1][t][0]), kp));
                acc[t][2] = _mm256_add_epi32(acc[t][2], _mm256_madd_epi16(_mm256_unpacklo_epi16(e[0][t][1], e[1][t][1]), kp));
                acc[t][3] = _mm256_add_epi32(acc[t][3], _mm256_madd_epi16(_mm256_unpackhi_epi16(e[0][t][1], e[1][t][1]), kp));
            }
        }
        for (int k = 0; k < 4; ++k) {
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 32 * g + 8 * k)));
            for (int t = 0; t < NT; ++t)
                f[t][k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t][k]), _mm256_mul_ps(dw, _mm256_set1_ps(gs[t][g].u)), f[t][k]);
        }
    }
    for (int t = 0; t < NT; ++t)
        for (int k = 0; k < 4; ++k) out[4 * t + k] = f[t][k];
}

}  // namespace

// The 256 table bytes of each Q8_0 block of a row (quad q's 16 low parts at 32q, its 16 high parts at
// 32q + 16), then each 4-block group's GroupScales.
void q1_0_tables_avx2(const uint8_t* q8_row, uint8_t* tab, int64_t n_in) {
    // sign[p] lane n: +1 where bit p of n (the entry index) is set, else -1.
    __m256i sign[4];
    for (int p = 0; p < 4; ++p) {
        alignas(32) int16_t s[16];
        for (int n = 0; n < 16; ++n) s[n] = static_cast<int16_t>(((n >> p) & 1) ? 1 : -1);
        sign[p] = _mm256_load_si256(reinterpret_cast<const __m256i*>(s));
    }
    const __m256i low5 = _mm256_set1_epi16(0x1F), k16 = _mm256_set1_epi16(16);
    for (int64_t b = 0; b < n_in / 32; ++b) {
        const int8_t* x = reinterpret_cast<const int8_t*>(q8_row + kQ8Block * b + 4);
        for (int q = 0; q < 8; ++q) {
            __m256i e = _mm256_sign_epi16(_mm256_set1_epi16(x[4 * q]), sign[0]);  // the 16 entries as int16
            for (int p = 1; p < 4; ++p) e = _mm256_add_epi16(e, _mm256_sign_epi16(_mm256_set1_epi16(x[4 * q + p]), sign[p]));
            // packs interleave the lanes: [low 0-7, high 0-7 | low 8-15, high 8-15] -> qwords 0 2 1 3.
            const __m256i lo = _mm256_sub_epi16(_mm256_and_si256(e, low5), k16), hi = _mm256_srai_epi16(e, 5);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(tab + kTableBytes * b + 32 * q),
                                _mm256_permute4x64_epi64(_mm256_packs_epi16(lo, hi), 0xD8));
        }
    }
    // Group records: u from the largest scale as q8_0_group_units chose it, k = d/u (whole numbers for
    // activations from that quantizer; anything else is rounded to the nearest).
    const int64_t nb = n_in / 32;
    GroupScales* gs = reinterpret_cast<GroupScales*>(tab + kTableBytes * static_cast<size_t>(nb));
    for (int64_t g = 0; g < (nb + 3) / 4; ++g) {
        const int n = static_cast<int>(std::min<int64_t>(4, nb - 4 * g));
        float d[4];
        for (int i = 0; i < 4; ++i) {
            float v = 0.0f;
            if (i < n) std::memcpy(&v, q8_row + kQ8Block * (4 * g + i), sizeof v);
            d[i] = v;
        }
        float dmax = 0.0f;
        for (int i = 0; i < n; ++i) dmax = std::max(dmax, d[i]);
        GroupScales r{};
        if (dmax > 0.0f && std::isfinite(dmax)) {
            int e = 0;
            std::frexp(dmax, &e);
            r.u = std::ldexp(1.0f, e - 15);
            for (int i = 0; i < n; ++i) {
                r.k[i] = static_cast<int16_t>(std::lrint(std::clamp(d[i] / r.u, 0.0f, 32767.0f)));
                r.bias += 128 * r.k[i];
            }
        }
        std::memcpy(gs + g, &r, sizeof r);
    }
}

void q1_0_r32l_avx2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t nb = w.n_in / 32, n_out = w.n_out, n_tok = a.n_rows();
    const R32LView<const uint8_t> view{w.data, nb, n_out / kRows};
    const size_t per_tok = q1_table_bytes(w.n_in);
    // The tables: the activations' own (built once for every thread, Activations::q1_tables) when they
    // came with them, all tokens in one pass; else this thread's, built once per Activations::prepare
    // when all tokens fit one chunk (the row grains of a matmul and the matmuls sharing an input reuse
    // them), per call otherwise.
    const bool shared = a.q1_tables(0) != nullptr;
    thread_local DerivedBuf cache;
    const uint64_t generation = n_tok > kChunkTokens ? 0 : a.generation();  // several chunks: never cached
    const int64_t chunk = shared ? std::max<int64_t>(n_tok, 1) : kChunkTokens;
    for (int64_t c0 = 0; c0 < n_tok; c0 += chunk) {
        const int64_t nc = std::min(chunk, n_tok - c0);
        const uint8_t* tables = shared ? a.q1_tables(c0) : nullptr;
        if (!shared) {
            uint8_t* own = cache.buf.get(per_tok * static_cast<size_t>(nc));
            if (cache.stale(generation, c0))
                for (int64_t t = 0; t < nc; ++t) q1_0_tables_avx2(a.row(c0 + t), own + per_tok * static_cast<size_t>(t), w.n_in);
            tables = own;
        }
        const int64_t slice = r16l_pass_blocks(kSliceBytes, kTableBytes, std::min<int64_t>(2, nc));
        for (int64_t s0 = 0; s0 < nb; s0 += slice) {  // later slices add to y
            const int64_t ns = std::min(slice, nb - s0);
            for (int64_t t0 = 0; t0 < nc; t0 += 2) {  // pairs of tokens: their slice tables stay in L1
                const int64_t nt = std::min<int64_t>(2, nc - t0);
                const uint8_t* tabs[2];
                const GroupScales* gs[2];
                for (int64_t t = 0; t < nt; ++t) {
                    const uint8_t* row = tables + per_tok * static_cast<size_t>(t0 + t);
                    tabs[t] = row + kTableBytes * static_cast<size_t>(s0);
                    gs[t] = reinterpret_cast<const GroupScales*>(row + kTableBytes * static_cast<size_t>(nb)) + s0 / 4;
                }
                for (int64_t rb = o0 / kRows; rb * kRows < o1; ++rb) {
                    // Rows of this block inside [o0, o1): the block is computed whole, only those are stored.
                    const int64_t r0 = std::max<int64_t>(o0, kRows * rb) - kRows * rb;
                    const int64_t r1 = std::min<int64_t>(o1, kRows * rb + kRows) - kRows * rb;
                    const uint8_t* cb = view.codes(rb, s0);
                    const uint8_t* next = r16l_next_codes(view, rb, o0, o1, s0, ns);
                    const uint16_t* sb = view.scales(rb, s0);
                    __m256 res[8];
                    if (nt == 1) table_block<1>(cb, next, sb, ns, tabs, gs, res);
                    else table_block<2>(cb, next, sb, ns, tabs, gs, res);
                    for (int64_t t = 0; t < nt; ++t) {
                        float* out = y + (c0 + t0 + t) * n_out + kRows * rb;
                        if (r0 == 0 && r1 == kRows) {
                            for (int k = 0; k < 4; ++k) {
                                float* o = out + 8 * k;
                                _mm256_storeu_ps(o, s0 == 0 ? res[4 * t + k] : _mm256_add_ps(_mm256_loadu_ps(o), res[4 * t + k]));
                            }
                            continue;
                        }
                        alignas(32) float v[kRows];
                        for (int k = 0; k < 4; ++k) _mm256_store_ps(v + 8 * k, res[4 * t + k]);
                        for (int64_t r = r0; r < r1; ++r) out[r] = s0 == 0 ? v[r] : out[r] + v[r];
                    }
                }
            }
        }
    }
}

// ---- TQ2_0, Layout::R32T (repack.h) ----
//
// Native TQ2_0 byte m of a block holds the codes (0..3, value code - 1) of elements 128(m/32) + m%32 + 32l
// at bits 2l: its low nibble two codes, its high nibble two more. An R32T vector holds byte m of 32 rows,
// so one table per nibble (16 code pairs: e = (c0 - 1)·x[first] + (c1 - 1)·x[second], in [-508, 508],
// split as in the Q1_0 kernel) serves 32 rows. 8 lookups (4 vectors, 16 elements) add up in bytes; their
// vpmaddubsw sums add up in 16 bits over a quarter block (64 elements, |Σ| < 2^15), and two quarters
// widen into 32 bits with one vpmaddwd. The weight scale and the Q8_K activation scale come once per
// block of 256. Against the row kernel (kernels_avx2.cpp, vpmaddubsw per 32 codes after a shift and a
// mask): 32 -> 22 cycles per 512 weights in L1 (Zen 3, one token).
namespace {

constexpr size_t kTq2TableBytes = 4096;  // per 256-element block and token: 128 nibbles × 32 bytes
constexpr int64_t kQ8KBlock = 292;       // Activations' Q8_K block (matmul.cpp): f32 d, int8 q[256], sums

// Rows 32rb .. 32rb + 31 of units [0, nb) (`units`, consecutive in one stored slice) against one token
// (tables `tab` of those blocks, Q8_K blocks `q8k`): out[k] += rows 8k .. 8k + 7.
inline void tq2_table_block(const uint8_t* units, int64_t nb, const uint8_t* tab, const uint8_t* q8k, __m256* out) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), k1_32 = _mm256_set1_epi16(0x2001), ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* u = units + R32TView<const uint8_t>::kUnitBytes * b;
        const uint8_t* tb = tab + kTq2TableBytes * b;
        __m256i acc[4];
        for (int k = 0; k < 4; ++k) acc[k] = _mm256_set1_epi32(2048);  // 16 groups of 8 low parts × 16
        for (int qp = 0; qp < 2; ++qp) {
            __m256i e[2][2];  // quarter 2qp + qq: 16-bit sums of bytes 0-7 | 16-23 and 8-15 | 24-31
            for (int qq = 0; qq < 2; ++qq) {
                e[qq][0] = e[qq][1] = _mm256_setzero_si256();
                for (int g = 0; g < 4; ++g) {
                    __m256i lo = _mm256_setzero_si256(), hi = lo;
#pragma GCC unroll 4
                    for (int jj = 0; jj < 4; ++jj) {
                        const int m = 16 * (2 * qp + qq) + 4 * g + jj;
                        if (jj % 2 == 0) prefetch_ahead<64>(u + 32 * m);  // decode (decode_prefetch.h)
                        const __m256i v = ld(u + 32 * m);
                        const __m256i nl = _mm256_and_si256(v, low4), nh = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
                        const uint8_t* t = tb + 64 * m;
                        lo = _mm256_add_epi8(lo, _mm256_add_epi8(_mm256_shuffle_epi8(ld2(t), nl), _mm256_shuffle_epi8(ld2(t + 32), nh)));
                        hi = _mm256_add_epi8(hi, _mm256_add_epi8(_mm256_shuffle_epi8(ld2(t + 16), nl), _mm256_shuffle_epi8(ld2(t + 48), nh)));
                    }
                    e[qq][0] = _mm256_add_epi16(e[qq][0], _mm256_maddubs_epi16(k1_32, _mm256_unpacklo_epi8(lo, hi)));
                    e[qq][1] = _mm256_add_epi16(e[qq][1], _mm256_maddubs_epi16(k1_32, _mm256_unpackhi_epi8(lo, hi)));
                }
            }
            acc[0] = _mm256_add_epi32(acc[0], _mm256_madd_epi16(_mm256_unpacklo_epi16(e[0][0], e[1][0]), ones));
            acc[1] = _mm256_add_epi32(acc[1], _mm256_madd_epi16(_mm256_unpackhi_epi16(e[0][0], e[1][0]), ones));
            acc[2] = _mm256_add_epi32(acc[2], _mm256_madd_epi16(_mm256_unpacklo_epi16(e[0][1], e[1][1]), ones));
            acc[3] = _mm256_add_epi32(acc[3], _mm256_madd_epi16(_mm256_unpackhi_epi16(e[0][1], e[1][1]), ones));
        }
        float dx;
        std::memcpy(&dx, q8k + kQ8KBlock * b, 4);
        const __m256 vdx = _mm256_set1_ps(dx);
        for (int k = 0; k < 4; ++k) {
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(u + 2048 + 16 * k)));
            out[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[k]), _mm256_mul_ps(dw, vdx), out[k]);
        }
    }
}

}  // namespace

void tq2_0_tables_avx2(const uint8_t* q8k_row, uint8_t* tab, int64_t n_in) {
    // c0[n] = (n & 3) - 1, c1[n] = (n >> 2) - 1: the values of a nibble's two codes, entry n.
    alignas(32) int16_t c0s[16], c1s[16];
    for (int n = 0; n < 16; ++n) {
        c0s[n] = static_cast<int16_t>((n & 3) - 1);
        c1s[n] = static_cast<int16_t>((n >> 2) - 1);
    }
    const __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c0s));
    const __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c1s));
    const __m256i low5 = _mm256_set1_epi16(0x1F), k16 = _mm256_set1_epi16(16);
    for (int64_t b = 0; b < n_in / 256; ++b) {
        const int8_t* x = reinterpret_cast<const int8_t*>(q8k_row + kQ8KBlock * b + 4);
        for (int m = 0; m < 64; ++m) {
            const int e0 = 128 * (m / 32) + m % 32;  // codes at bits 0-1, 2-3, 4-5, 6-7: e0, +32, +64, +96
            for (int nib = 0; nib < 2; ++nib) {
                const int first = e0 + 64 * nib;
                const __m256i e = _mm256_add_epi16(_mm256_mullo_epi16(_mm256_set1_epi16(x[first]), c0),
                                                   _mm256_mullo_epi16(_mm256_set1_epi16(x[first + 32]), c1));
                const __m256i lo = _mm256_sub_epi16(_mm256_and_si256(e, low5), k16), hi = _mm256_srai_epi16(e, 5);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(tab + kTq2TableBytes * b + 64 * m + 32 * nib),
                                    _mm256_permute4x64_epi64(_mm256_packs_epi16(lo, hi), 0xD8));
            }
        }
    }
}

void tq2_0_r32t_table_avx2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    const int64_t nb = w.n_in / 256, n_out = w.n_out, n_tok = a.n_rows();
    const R32TView<const uint8_t> view{w.data, nb, n_out / 32};
    const size_t per_tok = static_cast<size_t>(nb) * kTq2TableBytes;
    // This thread's tables, built once per Activations::prepare (the row grains of a matmul and the
    // matmuls sharing an input reuse them). Decode-sized batches only (gemm_tq2_r32t in kernels_avx2.cpp).
    thread_local DerivedBuf cache;
    uint8_t* tables = cache.buf.get(per_tok * static_cast<size_t>(n_tok));
    if (cache.stale(a.generation(), 0))
        for (int64_t t = 0; t < n_tok; ++t) tq2_0_tables_avx2(a.row(t), tables + per_tok * static_cast<size_t>(t), w.n_in);
    for (int64_t s0 = 0; s0 < nb; s0 += R32TView<const uint8_t>::kSliceBlocks) {  // later slices add to y
        const int64_t ns = std::min(R32TView<const uint8_t>::kSliceBlocks, nb - s0);
        for (int64_t rb = o0 / 32; rb * 32 < o1; ++rb) {
            // Rows of this block inside [o0, o1): the block is computed whole, only those are stored.
            const int64_t r0 = std::max<int64_t>(o0, 32 * rb) - 32 * rb, r1 = std::min<int64_t>(o1, 32 * rb + 32) - 32 * rb;
            for (int64_t t = 0; t < n_tok; ++t) {
                __m256 res[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
                tq2_table_block(view.unit(rb, s0), ns, tables + per_tok * static_cast<size_t>(t) + kTq2TableBytes * static_cast<size_t>(s0),
                                a.row(t) + kQ8KBlock * s0, res);
                alignas(32) float v[32];
                for (int k = 0; k < 4; ++k) _mm256_store_ps(v + 8 * k, res[k]);
                float* out = y + t * n_out + 32 * rb;
                for (int64_t r = r0; r < r1; ++r) out[r] = s0 == 0 ? v[r] : out[r] + v[r];
            }
        }
    }
}

}  // namespace bonsai::cpu::detail
#else
#include "bonsai/error.h"
namespace bonsai::cpu::detail {
// Not an x86 build: active_isa() is never Avx2 there.
void q1_0_r32l_avx2(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: the AVX2 Q1_0 table kernel called on a build without AVX2");
}
void q1_0_tables_avx2(const uint8_t*, uint8_t*, int64_t) {
    throw Error("matmul: the AVX2 Q1_0 tables built on a build without AVX2");
}
void tq2_0_tables_avx2(const uint8_t*, uint8_t*, int64_t) {
    throw Error("matmul: the AVX2 TQ2_0 tables built on a build without AVX2");
}
void tq2_0_r32t_table_avx2(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: the AVX2 TQ2_0 table kernel called on a build without AVX2");
}
}  // namespace bonsai::cpu::detail
#endif
