// Plain (unvectorized-by-hand) kernels; correctness first. See matmul.h for the numerics contract.
#include "backend/cpu/matmul.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "backend/cpu/kernels.h"
#include "backend/cpu/kernels_ext.h"
#include "backend/cpu/onednn_gemm.h"
#include "backend/cpu/repack.h"
#include "backend/cpu/row_ops.h"
#include "backend/cpu/ternary_decode.h"
#include "bonsai/error.h"

namespace bonsai::cpu {
namespace {

constexpr int QK8_0 = 32;
constexpr int QK_K = 256;

struct BlockQ8_0 {  // activation block: scale already rounded through fp16, as llama.cpp stores it
    float d;
    int8_t qs[QK8_0];
};
struct BlockQ8_K {  // activation block with f32 scale and 16-element partial sums
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
};
static_assert(sizeof(BlockQ8_0) == 36);
static_assert(sizeof(BlockQ8_K) == 292);

struct I8RowHeader {  // BitNet fork per-row int8 activations: s = 127/γ and Σa
    float s;
    int32_t sum;
};

struct HalfTable {
    float v[65536];
    HalfTable() {
        for (uint32_t i = 0; i < 65536; ++i) v[i] = fp16_to_fp32(static_cast<uint16_t>(i));
    }
};
const HalfTable& half_table() {
    static const HalfTable t;
    return t;
}

inline uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline float rdf32(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
}

// Round half to even, as _mm256_round_ps(_MM_ROUND_NEAREST) and ggml's nearest_int do.
inline int round_even(float x) { return static_cast<int>(std::nearbyint(x)); }

void quantize_i8_row(const float* x, uint8_t* out, int64_t n) {
    float amax = 0.0f;
    for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float gamma = std::max(amax, 1e-5f);
    const float s = 127.0f / gamma;
    int8_t* q = reinterpret_cast<int8_t*>(out + sizeof(I8RowHeader));
    int32_t sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        const int v = std::clamp(round_even(x[i] * s), -128, 127);
        q[i] = static_cast<int8_t>(v);
        sum += v;
    }
    I8RowHeader h{s, sum};
    std::memcpy(out, &h, sizeof h);
}

// ---- weight decoders into small int8 arrays (value codes already centred, i.e. in {-1,0,1} etc.) ----
// (TQ1_0: detail::decode_tq1_0, ternary_decode.h.)
using detail::decode_tq1_0;
using detail::trit;

// PTQ1_0 block (28 bytes) -> 128 values in {-1,0,1} (bonsai-formats.md §3.2).
void decode_ptq1_0(const uint8_t* blk, int8_t* v) {
    const uint8_t* qs = blk;
    const uint8_t* qh = blk + 24;
    for (int n = 0; n < 5; ++n)
        for (int m = 0; m < 16; ++m) v[16 * n + m] = static_cast<int8_t>(trit(qs[m], n) - 1);
    for (int n = 0; n < 5; ++n)
        for (int m = 0; m < 8; ++m) v[80 + 8 * n + m] = static_cast<int8_t>(trit(qs[16 + m], n) - 1);
    for (int n = 0; n < 4; ++n)
        for (int m = 0; m < 2; ++m) v[120 + 2 * n + m] = static_cast<int8_t>(trit(qh[m], n) - 1);
}

inline int32_t idot(const int8_t* a, const int8_t* b, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; ++i) s += static_cast<int32_t>(a[i]) * b[i];
    return s;
}

// ---- per-type row dot products ----

float dot_f32(const uint8_t* w, const float* x, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += rdf32(w + 4 * (i + l)) * x[i + l];
    float s = 0.0f;
    for (; i < n; ++i) s += rdf32(w + 4 * i) * x[i];
    for (int l = 0; l < 8; ++l) s += acc[l];
    return s;
}

template <bool BF>
float dot_16(const uint8_t* w, const float* x, int64_t n) {
    const HalfTable& ht = half_table();
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    auto cvt = [&](int64_t i) {
        const uint16_t h = rd16(w + 2 * i);
        if constexpr (BF) {
            const uint32_t u = static_cast<uint32_t>(h) << 16;
            float f;
            std::memcpy(&f, &u, 4);
            return f;
        } else {
            return ht.v[h];
        }
    };
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += cvt(i + l) * x[i + l];
    float s = 0.0f;
    for (; i < n; ++i) s += cvt(i) * x[i];
    for (int l = 0; l < 8; ++l) s += acc[l];
    return s;
}

float dot_q8_0(const uint8_t* w, const BlockQ8_0* a, int64_t n) {
    const HalfTable& ht = half_table();
    float s = 0.0f;
    for (int64_t b = 0; b < n / 32; ++b, w += 34) {
        const int32_t sumi = idot(reinterpret_cast<const int8_t*>(w + 2), a[b].qs, 32);
        s += ht.v[rd16(w)] * a[b].d * static_cast<float>(sumi);
    }
    return s;
}

float dot_q4_0(const uint8_t* w, const BlockQ8_0* a, int64_t n) {
    const HalfTable& ht = half_table();
    float s = 0.0f;
    for (int64_t b = 0; b < n / 32; ++b, w += 18) {
        const uint8_t* qs = w + 2;
        int32_t sumi = 0;
        for (int j = 0; j < 16; ++j) {
            sumi += ((qs[j] & 0x0F) - 8) * a[b].qs[j];
            sumi += ((qs[j] >> 4) - 8) * a[b].qs[j + 16];
        }
        s += ht.v[rd16(w)] * a[b].d * static_cast<float>(sumi);
    }
    return s;
}

float dot_q1_0(const uint8_t* w, const BlockQ8_0* a, int64_t n) {
    const HalfTable& ht = half_table();
    float s = 0.0f;
    for (int64_t b = 0; b < n / 128; ++b, w += 18) {
        const float d = ht.v[rd16(w)];
        const uint8_t* qs = w + 2;
        float sb = 0.0f;
        for (int k = 0; k < 4; ++k) {
            const BlockQ8_0& y = a[b * 4 + k];
            int32_t sumi = 0;
            for (int j = 0; j < 32; ++j) {
                const int e = 32 * k + j;
                const int bit = (qs[e >> 3] >> (e & 7)) & 1;
                sumi += bit ? y.qs[j] : -y.qs[j];
            }
            sb += y.d * static_cast<float>(sumi);
        }
        s += d * sb;
    }
    return s;
}

// Q2_0 (group 64) and PQ2_0 (group 128): sequential 2-bit codes, value (q-1)·d.
template <int G>
float dot_q2(const uint8_t* w, const BlockQ8_0* a, int64_t n) {
    const HalfTable& ht = half_table();
    constexpr int bytes = 2 + G / 4;
    float s = 0.0f;
    for (int64_t b = 0; b < n / G; ++b, w += bytes) {
        const float d = ht.v[rd16(w)];
        const uint8_t* qs = w + 2;
        float sb = 0.0f;
        for (int k = 0; k < G / 32; ++k) {
            const BlockQ8_0& y = a[b * (G / 32) + k];
            int32_t sumi = 0;
            for (int j = 0; j < 32; ++j) {
                const int e = 32 * k + j;
                const int q = (qs[e >> 2] >> (2 * (e & 3))) & 3;
                sumi += (q - 1) * y.qs[j];
            }
            sb += y.d * static_cast<float>(sumi);
        }
        s += d * sb;
    }
    return s;
}

float dot_ptq1_0(const uint8_t* w, const BlockQ8_0* a, int64_t n) {
    const HalfTable& ht = half_table();
    int8_t v[128];
    float s = 0.0f;
    for (int64_t b = 0; b < n / 128; ++b, w += 28) {
        decode_ptq1_0(w, v);
        const float d = ht.v[rd16(w + 26)];
        float sb = 0.0f;
        for (int k = 0; k < 4; ++k) {
            const BlockQ8_0& y = a[b * 4 + k];
            sb += y.d * static_cast<float>(idot(v + 32 * k, y.qs, 32));
        }
        s += d * sb;
    }
    return s;
}

float dot_tq1_0(const uint8_t* w, const BlockQ8_K* a, int64_t n) {
    const HalfTable& ht = half_table();
    int8_t v[256];
    float s = 0.0f;
    for (int64_t b = 0; b < n / 256; ++b, w += 54) {
        decode_tq1_0(w, v);
        s += a[b].d * ht.v[rd16(w + 52)] * static_cast<float>(idot(v, a[b].qs, 256));
    }
    return s;
}

float dot_tq2_0(const uint8_t* w, const BlockQ8_K* a, int64_t n) {
    const HalfTable& ht = half_table();
    float s = 0.0f;
    for (int64_t b = 0; b < n / 256; ++b, w += 66) {
        const uint8_t* qs = w;
        const int8_t* y = a[b].qs;
        int32_t sumi = 0;
        for (int c = 0; c < 2; ++c)
            for (int l = 0; l < 4; ++l)
                for (int m = 0; m < 32; ++m) {
                    const int q = (qs[32 * c + m] >> (2 * l)) & 3;
                    sumi += (q - 1) * y[128 * c + 32 * l + m];
                }
        s += a[b].d * ht.v[rd16(w + 64)] * static_cast<float>(sumi);
    }
    return s;
}

float dot_q4_K(const uint8_t* w, const BlockQ8_K* a, int64_t n) {
    const HalfTable& ht = half_table();
    float s = 0.0f;
    for (int64_t b = 0; b < n / 256; ++b, w += 144) {
        const float d = ht.v[rd16(w)], dmin = ht.v[rd16(w + 2)];
        const uint8_t* sc = w + 4;
        const uint8_t* qs = w + 16;
        int scale[8], mn[8];
        for (int j = 0; j < 4; ++j) {
            scale[j] = sc[j] & 63;
            mn[j] = sc[j + 4] & 63;
        }
        for (int j = 4; j < 8; ++j) {
            scale[j] = (sc[j + 4] & 0x0F) | ((sc[j - 4] >> 6) << 4);
            mn[j] = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
        }
        const int8_t* y = a[b].qs;
        int32_t isum = 0, msum = 0;
        for (int c = 0; c < 4; ++c) {
            int32_t lo = 0, hi = 0;
            for (int l = 0; l < 32; ++l) {
                lo += (qs[32 * c + l] & 0x0F) * y[64 * c + l];
                hi += (qs[32 * c + l] >> 4) * y[64 * c + 32 + l];
            }
            isum += scale[2 * c] * lo + scale[2 * c + 1] * hi;
        }
        for (int j = 0; j < 8; ++j) msum += mn[j] * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
        s += a[b].d * d * static_cast<float>(isum) - a[b].d * dmin * static_cast<float>(msum);
    }
    return s;
}

float dot_q6_K(const uint8_t* w, const BlockQ8_K* a, int64_t n) {
    const HalfTable& ht = half_table();
    float s = 0.0f;
    int8_t v[256];
    for (int64_t b = 0; b < n / 256; ++b, w += 210) {
        const uint8_t* ql = w;
        const uint8_t* qh = w + 128;
        const int8_t* scales = reinterpret_cast<const int8_t*>(w + 192);
        const float d = ht.v[rd16(w + 208)];
        for (int h = 0; h < 2; ++h) {
            const uint8_t* L = ql + 64 * h;
            const uint8_t* H = qh + 32 * h;
            for (int l = 0; l < 32; ++l) {
                v[128 * h + l] = static_cast<int8_t>(((L[l] & 0xF) | (((H[l] >> 0) & 3) << 4)) - 32);
                v[128 * h + l + 32] = static_cast<int8_t>(((L[l + 32] & 0xF) | (((H[l] >> 2) & 3) << 4)) - 32);
                v[128 * h + l + 64] = static_cast<int8_t>(((L[l] >> 4) | (((H[l] >> 4) & 3) << 4)) - 32);
                v[128 * h + l + 96] = static_cast<int8_t>(((L[l + 32] >> 4) | (((H[l] >> 6) & 3) << 4)) - 32);
            }
        }
        // Element 128h + 32k + l uses scale 8h + 2k + l/16, i.e. group g = e/16 uses scales[g].
        int32_t isum = 0;
        for (int g = 0; g < 16; ++g) isum += scales[g] * idot(v + 16 * g, a[b].qs + 16 * g, 16);
        s += a[b].d * d * static_cast<float>(isum);
    }
    return s;
}

// I2_S row o: codes of the flattened tensor in 128-element blocks; byte 32b + (j%32), bits 6-2(j/32).
float dot_i2_s(const uint8_t* row, const uint8_t* act, int64_t n, float wscale) {
    I8RowHeader h;
    std::memcpy(&h, act, sizeof h);
    const int8_t* q = reinterpret_cast<const int8_t*>(act + sizeof(I8RowHeader));
    int32_t sumi = 0;
    for (int64_t b = 0; b < n / 128; ++b) {
        const uint8_t* blk = row + 32 * b;
        const int8_t* y = q + 128 * b;
        for (int g = 0; g < 4; ++g) {
            const int shift = 6 - 2 * g;
            for (int m = 0; m < 32; ++m) sumi += ((blk[m] >> shift) & 3) * y[32 * g + m];
        }
    }
    return static_cast<float>(sumi - h.sum) / h.s * wscale;
}

size_t act_row_bytes(ActFormat f, int64_t n) {
    switch (f) {
        case ActFormat::F32:
        case ActFormat::F16:
        case ActFormat::BF16: return static_cast<size_t>(n) * sizeof(float);
        case ActFormat::Q8_0: return static_cast<size_t>(n / QK8_0) * sizeof(BlockQ8_0);
        case ActFormat::Q8_K: return static_cast<size_t>(n / QK_K) * sizeof(BlockQ8_K);
        case ActFormat::I8_ROW: return (sizeof(I8RowHeader) + static_cast<size_t>(n) + 7) & ~size_t(7);
    }
    return 0;
}

// The R16T form of one Q8_K row (Activations::taux): per chunk of 8 blocks, the 4-byte word s of half h
// of block b goes to word 16s + 2b + h, then the lane scales and the negated lane sums.
void r16t_transpose(const uint8_t* q8k, uint8_t* tx, int64_t n) {
    for (int64_t c = 0; c < n / 2048; ++c, tx += 2176) {
        int32_t lane_sum[16];
        float lane_d[16];
        for (int i = 0; i < 16; ++i) {
            const BlockQ8_K* b = reinterpret_cast<const BlockQ8_K*>(q8k + (8 * c + i / 2) * sizeof(BlockQ8_K));
            const int8_t* q = b->qs + 128 * (i % 2);
            int32_t sum = 0;
            for (int e = 0; e < 128; ++e) sum += q[e];
            for (int st = 0; st < 32; ++st) std::memcpy(tx + 64 * st + 4 * i, q + 4 * st, 4);
            lane_sum[i] = -sum;
            lane_d[i] = b->d;
        }
        std::memcpy(tx + 2048, lane_d, 64);
        std::memcpy(tx + 2112, lane_sum, 64);
    }
}

}  // namespace

float half_to_float(uint16_t h) { return half_table().v[h]; }

namespace detail {
GemmFn find_kernel(const Weight& w, Isa isa) {
    if (isa == Isa::Scalar) return nullptr;
    const KernelTable k = isa == Isa::Avx512 ? avx512_kernels() : avx2_kernels();
    if (w.type == TensorType::Q1_0 && w.layout == Layout::R16) return k.q1_0_r16;
    if (w.type == TensorType::Q1_0 && w.layout == Layout::R16M) return k.q1_0_r16m;
    if (w.type == TensorType::Q1_0 && w.layout == Layout::R16L) return k.q1_0_r16l;
    if (w.type == TensorType::Q1_0 && w.layout == Layout::R32L) return k.q1_0_r32l;
    if (w.type == TensorType::TQ2_0 && w.layout == Layout::R32T) return k.tq2_0_r32t;
    if (w.type == TensorType::Q2_0 && w.layout == Layout::R16) return k.q2_0_r16;
    if (w.type == TensorType::TQ2_0 && w.layout == Layout::Native) return k.tq2_0;
    if (w.type == TensorType::TQ2_0 && w.layout == Layout::R16T) return k.tq2_0_r16t;
    if (w.layout != Layout::Native) return nullptr;
    const ExtKernelTable e = isa == Isa::Avx512 ? ext_avx512_kernels() : ext_avx2_kernels();
    switch (w.type) {
        case TensorType::TQ1_0: return e.tq1_0;
        case TensorType::Q8_0: return e.q8_0;
        case TensorType::Q4_0: return e.q4_0;
        case TensorType::PQ2_0: return e.pq2_0;
        case TensorType::PTQ1_0: return e.ptq1_0;
        case TensorType::I2_S: return e.i2_s;
        case TensorType::F16: return e.f16;
        case TensorType::BF16: return e.bf16;
        default: return nullptr;
    }
}
}  // namespace detail

ActFormat act_format(TensorType t) {
    switch (t) {
        case TensorType::F32: return ActFormat::F32;
        case TensorType::F16: return ActFormat::F16;
        case TensorType::BF16: return ActFormat::BF16;
        case TensorType::Q8_0:
        case TensorType::Q4_0:
        case TensorType::Q1_0:
        case TensorType::Q2_0:
        case TensorType::PQ2_0:
        case TensorType::PTQ1_0: return ActFormat::Q8_0;
        case TensorType::Q4_K:
        case TensorType::Q6_K:
        case TensorType::TQ1_0:
        case TensorType::TQ2_0: return ActFormat::Q8_K;
        case TensorType::I2_S: return ActFormat::I8_ROW;
        case TensorType::COUNT: break;
    }
    throw Error("matmul: unsupported tensor type");
}

void Activations::prepare(ActFormat fmt, const float* x, int64_t n_rows, int64_t n_in, bool r16t, ThreadPool* pool,
                          bool q1_tables) {
    const int64_t blk = fmt == ActFormat::Q8_0 ? QK8_0 : fmt == ActFormat::Q8_K ? QK_K : 1;
    if (n_in <= 0 || n_in % blk != 0)
        throw Error("matmul: row length " + std::to_string(n_in) + " is not a multiple of the activation block " +
                    std::to_string(blk));
    static std::atomic<uint64_t> generations{0};  // std::atomic via thread_pool.h
    generation_ = generations.fetch_add(1, std::memory_order_relaxed) + 1;
    fmt_ = fmt;
    n_rows_ = n_rows;
    n_in_ = n_in;
    row_bytes_ = act_row_bytes(fmt, n_in);
    buf_.resize(row_bytes_ * static_cast<size_t>(n_rows));
    aux_row_bytes_ = fmt == ActFormat::Q8_0 && n_in % 512 == 0 ? static_cast<size_t>(n_in / 512) * 640
                     : fmt == ActFormat::Q8_K                  ? static_cast<size_t>(n_in / QK_K) * 4
                                                               : 0;
    aux_.resize(aux_row_bytes_ ? aux_row_bytes_ * static_cast<size_t>(n_rows) + 64 : 0);
    taux_row_bytes_ = r16t && fmt == ActFormat::Q8_K && n_in % 2048 == 0 ? static_cast<size_t>(n_in / 2048) * 2176 : 0;
    taux_.resize(taux_row_bytes_ ? taux_row_bytes_ * static_cast<size_t>(n_rows) + 64 : 0);
    q1t_row_bytes_ = q1_tables && fmt == ActFormat::Q8_0 && detected_isa() >= Isa::Avx2 ? detail::q1_table_bytes(n_in) : 0;
    q1t_.resize(q1t_row_bytes_ * static_cast<size_t>(n_rows));
    x128_row_bytes_ = fmt == ActFormat::Q8_0 && n_in % 128 == 0 && n_rows > detail::kAmxMinTokens && amx_kernels_enabled()
                          ? static_cast<size_t>(n_in + n_in / 128 * 4 + 63) / 64 * 64
                          : 0;
    x128_.resize(x128_row_bytes_ ? x128_row_bytes_ * static_cast<size_t>(n_rows) + 64 : 0);
    const auto n_blocks = static_cast<size_t>(n_in / blk);
    const auto convert = [&](int64_t r0, int64_t r1) {
        thread_local std::vector<int32_t> sums;  // Σq per block of the row being converted (grows once)
        sums.resize(n_blocks);
        for (int64_t r = r0; r < r1; ++r) convert_row(r, x + r * n_in, sums.data());
    };
    if (pool && n_rows >= 8) {
        pool->parallel_for(n_rows, convert);
    } else {
        convert(0, n_rows);
    }
}

void Activations::convert_row(int64_t r, const float* xr, int32_t* sums) {
    const ActFormat fmt = fmt_;
    const int64_t n_in = n_in_;
    uint8_t* out = buf_.data() + static_cast<size_t>(r) * row_bytes_;
    switch (fmt) {
        case ActFormat::F32: std::memcpy(out, xr, static_cast<size_t>(n_in) * sizeof(float)); break;
        case ActFormat::F16: {
            float* o = reinterpret_cast<float*>(out);
            for (int64_t i = 0; i < n_in; ++i) o[i] = half_to_float(fp32_to_fp16(xr[i]));
            break;
        }
        case ActFormat::BF16: {
            float* o = reinterpret_cast<float*>(out);
            for (int64_t i = 0; i < n_in; ++i) o[i] = bf16_to_fp32(fp32_to_bf16(xr[i]));
            break;
        }
        case ActFormat::Q8_0: quantize_q8_0_blocks(xr, out, n_in, sums); break;
        case ActFormat::Q8_K: quantize_q8_k_blocks(xr, out, n_in, sums); break;
        case ActFormat::I8_ROW: quantize_i8_row(xr, out, n_in); break;
    }
    if (taux_row_bytes_ != 0) r16t_transpose(out, align64(taux_) + static_cast<size_t>(r) * taux_row_bytes_, n_in);
    if (q1t_row_bytes_ != 0) detail::q1_0_tables_avx2(out, q1t_.data() + static_cast<size_t>(r) * q1t_row_bytes_, n_in);
    if (x128_row_bytes_ != 0) {
        auto* q = reinterpret_cast<int8_t*>(align64(x128_) + static_cast<size_t>(r) * x128_row_bytes_);
        detail::quantize_x128(xr, q, reinterpret_cast<float*>(q + n_in), n_in);
    }
    if (aux_row_bytes_ == 0) return;
    uint8_t* ax = align64(aux_) + static_cast<size_t>(r) * aux_row_bytes_;
    if (fmt == ActFormat::Q8_0) {
        // R16: word s of block i of each 16-block chunk goes to word 16s + i (a 16×8 transpose of int32).
        const uint8_t* src = out;
        for (int64_t c = 0; c < n_in / 512; ++c, ax += 640, src += 16 * sizeof(BlockQ8_0)) {
            for (int i = 0; i < 16; ++i) {
                const uint8_t* b = src + i * sizeof(BlockQ8_0);
                for (int s = 0; s < 8; ++s) std::memcpy(ax + 64 * s + 4 * i, b + 4 + 4 * s, 4);
                std::memcpy(ax + 512 + 4 * i, b, 4);
            }
            int32_t neg[16];
            for (int i = 0; i < 16; ++i) neg[i] = -sums[16 * c + i];
            std::memcpy(ax + 576, neg, 64);
        }
    } else {
        std::memcpy(ax, sums, static_cast<size_t>(n_in / QK_K) * 4);
    }
}

float dot_row(const Weight& w, int64_t o, const Activations& acts, int64_t t) {
    const int64_t n = w.n_in;
    if (w.layout != Layout::Native) {
        std::vector<uint8_t> native(row_nbytes(w.type, n));
        unpack_row_r16(w, o, native.data());
        const Weight one{w.type, native.data(), n, 1, Layout::Native};
        return dot_row(one, 0, acts, t);
    }
    const uint8_t* a = acts.row(t);
    const float* af = reinterpret_cast<const float*>(a);
    const BlockQ8_0* a8 = reinterpret_cast<const BlockQ8_0*>(a);
    const BlockQ8_K* ak = reinterpret_cast<const BlockQ8_K*>(a);
    if (w.type == TensorType::I2_S) {
        const float scale = rdf32(w.data + static_cast<size_t>(n * w.n_out / 4));
        return dot_i2_s(w.data + static_cast<size_t>(o * n / 4), a, n, scale);
    }
    const uint8_t* row = w.data + row_nbytes(w.type, n) * static_cast<size_t>(o);
    switch (w.type) {
        case TensorType::F32: return dot_f32(row, af, n);
        case TensorType::F16: return dot_16<false>(row, af, n);
        case TensorType::BF16: return dot_16<true>(row, af, n);
        case TensorType::Q8_0: return dot_q8_0(row, a8, n);
        case TensorType::Q4_0: return dot_q4_0(row, a8, n);
        case TensorType::Q1_0: return dot_q1_0(row, a8, n);
        case TensorType::Q2_0: return dot_q2<64>(row, a8, n);
        case TensorType::PQ2_0: return dot_q2<128>(row, a8, n);
        case TensorType::PTQ1_0: return dot_ptq1_0(row, a8, n);
        case TensorType::TQ1_0: return dot_tq1_0(row, ak, n);
        case TensorType::TQ2_0: return dot_tq2_0(row, ak, n);
        case TensorType::Q4_K: return dot_q4_K(row, ak, n);
        case TensorType::Q6_K: return dot_q6_K(row, ak, n);
        default: break;
    }
    throw Error("matmul: unsupported tensor type");
}

namespace {
void check_activations(const Weight& w, const Activations& acts) {
    if (acts.format() != act_format(w.type) || acts.n_in() != w.n_in)
        throw Error("matmul: activations do not match the weight");
    if (w.layout == Layout::R16T && acts.n_rows() > 0 && acts.taux(0) == nullptr)
        throw Error("matmul: an R16T weight needs activations prepared with their R16T form");
}

// Rows per claimed grain of a decode-sized matmul over `rows` rows: about 2 grains per thread, whole
// 32-row kernel blocks (R32L's and R32T's; two of every other kernel's 16), so that a thread slowed by
// another process still takes fewer rows. Each grain
// is a new memory stream the prefetchers start cold, and a thread's next grain lies elsewhere: the
// 1.7B Q1_0 decode's matmul sequence alone (28 layers + LM head, 2 threads, Zen 5) streamed 39.4-41.2
// GB/s with 8 grains per thread, 41.0-42.2 with 4, 41.8-45.1 with 2, 43.6-44.2 with 1.
int64_t decode_grain(int64_t rows, int threads) {
    constexpr int64_t kGrainsPerThread = 2;
    return std::max<int64_t>(32, (rows / (kGrainsPerThread * threads) + 31) / 32 * 32);
}
}  // namespace

void matmul_prepared(const Weight& w, const Activations& acts, float* y, ThreadPool& pool) {
    check_activations(w, acts);
    if (w.type == TensorType::I2_S && (w.n_in % 128) != 0)
        throw Error("matmul: I2_S rows must be a multiple of 128 elements");
    const int64_t n_tok = acts.n_rows();
    const int64_t n_out = w.n_out;
    if (onednn::try_gemm(w, acts, y, pool)) return;  // prefill through oneDNN where measured faster (onednn_gemm.h)
    if (detail::GemmFn fn = detail::find_kernel(w, active_isa())) {
        // Decode claims fixed grains (decode_grain). Prompt batches claim guided chunks (large first,
        // down to one 32-row block), so that the threads end within one block of each other: Q1_0
        // pp512 on 2 threads, Zen 4, +3 % (TQ2_0 unchanged); decode measured no difference from that.
        const auto rows = [&](int64_t o0, int64_t o1) { fn(w, acts, o0, o1, y); };
        if (n_tok > 1) {
            pool.parallel_for_guided(n_out, rows, 32);
        } else {
            pool.parallel_for(n_out, rows, decode_grain(n_out, pool.size()));
        }
        return;
    }
    if (w.layout != Layout::Native) {
        // No SIMD kernel for this ISA (a forced override): rebuild native rows one at a time.
        pool.parallel_for(n_out, [&](int64_t o0, int64_t o1) {
            std::vector<uint8_t> native(row_nbytes(w.type, w.n_in));
            Weight one{w.type, native.data(), w.n_in, 1, Layout::Native};
            for (int64_t o = o0; o < o1; ++o) {
                unpack_row_r16(w, o, native.data());
                for (int64_t t = 0; t < n_tok; ++t) y[t * n_out + o] = dot_row(one, 0, acts, t);
            }
        });
        return;
    }
    // Rows are the unit of work: each weight row is read once and dotted with every token.
    pool.parallel_for(n_out, [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o)
            for (int64_t t = 0; t < n_tok; ++t) y[t * n_out + o] = dot_row(w, o, acts, t);
    });
}

void matmul_prepared_many(const Weight* const* ws, float* const* ys, int n, const Activations& acts, ThreadPool& pool) {
    detail::GemmFn fns[8] = {};
    bool fused = n <= 8 && acts.n_rows() < 16;  // decode-sized batches (prefill may go to oneDNN, see matmul_prepared)
    int64_t total = 0;
    for (int i = 0; i < n && fused; ++i) {
        check_activations(*ws[i], acts);
        fns[i] = detail::find_kernel(*ws[i], active_isa());
        fused = fns[i] != nullptr;
        total += ws[i]->n_out;
    }
    if (!fused) {
        for (int i = 0; i < n; ++i) matmul_prepared(*ws[i], acts, ys[i], pool);
        return;
    }
    // One job over the rows of all weights, one after the other: one wake-up and one barrier instead
    // of n. Grains never straddle two weights (each weight's rows start a new grain).
    const int64_t grain = decode_grain(total, pool.size());
    int64_t starts[9] = {}, grains = 0, grain_start[9] = {};
    for (int i = 0; i < n; ++i) {
        starts[i + 1] = starts[i] + ws[i]->n_out;
        grain_start[i] = grains;
        grains += (ws[i]->n_out + grain - 1) / grain;
    }
    grain_start[n] = grains;
    pool.parallel_for(grains, [&](int64_t g0, int64_t g1) {
        for (int64_t g = g0; g < g1; ++g) {
            int i = 0;
            while (g >= grain_start[i + 1]) ++i;
            const int64_t o0 = (g - grain_start[i]) * grain, o1 = std::min(ws[i]->n_out, o0 + grain);
            fns[i](*ws[i], acts, o0, o1, ys[i]);
        }
    }, 1);
}

void matmul(const Weight& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool, Activations& scratch) {
    scratch.prepare(act_format(w.type), x, n_tok, w.n_in, w.layout == Layout::R16T, &pool, w.layout == Layout::R32L);
    matmul_prepared(w, scratch, y, pool);
}

}  // namespace bonsai::cpu
