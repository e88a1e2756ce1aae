#pragma once
// W·x for every tensor type, computed the way llama.cpp's CPU backend does it numerically:
//  - F32 weights: float dot products of the float activations;
//  - F16 / BF16 weights: activations rounded to F16 / BF16 first, float accumulation;
//  - Q8_0, Q4_0, Q1_0, Q2_0, PQ2_0, PTQ1_0 weights: activations quantized per row to Q8_0 blocks
//    (32 values, fp16 scale), integer dot product per block, float accumulation of d_w·d_x·sumi;
//  - TQ1_0, TQ2_0, Q4_K, Q6_K weights: activations quantized to Q8_K blocks (256 values, f32 scale);
//  - I2_S (BitNet fork): activations quantized per row to int8 with one absmax scale (formats.md §2.3.10).
// The integer sums are exact, so results differ from llama.cpp only by float summation order.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/cpu/thread_pool.h"
#include "bonsai/tensor_type.h"

namespace bonsai::cpu {

// How a weight's bytes are arranged: Native = GGUF blocks row by row; R16 = the repacked Q1_0 / Q2_0
// form of repack.h; R16M = its Q1_0 mask form for AVX-512; R16T = the TQ2_0 form of repack.h (chunks of
// 8 blocks, AVX-512); R16L = the Q1_0 form of the table-lookup kernel (16 rows interleaved, AVX-512
// VBMI); R32L = the Q1_0 form of the AVX2 table-lookup kernel (32 rows interleaved); R32T = the TQ2_0
// form of the AVX2 table-lookup kernel (32 rows interleaved). Same byte counts as native, made at load by
// repack_r16.
enum class Layout { Native, R16, R16M, R16T, R16L, R32L, R32T };

// A 2-D weight matrix of `n_out` rows with `n_in` elements each (GGUF ne0 = n_in, ne1 = n_out).
// `data` must hold tensor_nbytes(type, {n_in, n_out}) bytes (the caller validates this).
struct Weight {
    TensorType type = TensorType::F32;
    const uint8_t* data = nullptr;
    int64_t n_in = 0;
    int64_t n_out = 0;
    Layout layout = Layout::Native;
};

// The activation format a weight type's dot product consumes.
enum class ActFormat { F32, F16, BF16, Q8_0, Q8_K, I8_ROW };
ActFormat act_format(TensorType t);

// Activation rows converted to one ActFormat. Reused between calls to avoid reallocations.
class Activations {
public:
    // Converts n_rows rows of n_in floats (row-major) to `fmt`. n_in must be a multiple of the
    // format's block size (32 for Q8_0, 256 for Q8_K); throws bonsai::Error otherwise. With `r16t`
    // (Q8_K rows of a multiple of 2048 only) it also builds the transposed form that Layout::R16T
    // weights read (taux); matmul_prepared refuses R16T weights without it.
    // With `q1_tables` (Q8_0 rows, on a CPU with AVX2) it also builds the lookup tables that the AVX2
    // kernel of Layout::R32L weights reads (q1_tables); that kernel builds its own where they are missing.
    // With a pool, batches of 8 rows or more are converted on all its threads.
    void prepare(ActFormat fmt, const float* x, int64_t n_rows, int64_t n_in, bool r16t = false, ThreadPool* pool = nullptr,
                 bool q1_tables = false);
    ActFormat format() const { return fmt_; }
    int64_t n_rows() const { return n_rows_; }
    int64_t n_in() const { return n_in_; }
    // Start of row r in the converted buffer (layout depends on the format).
    const uint8_t* row(int64_t r) const { return buf_.data() + static_cast<size_t>(r) * row_bytes_; }
    // Q8_0 rows with n_in % 512 == 0: the R16 transposition (repack.h) of row r, n_in/512 chunks of
    // 640 bytes: 512 int8 (byte 64s + 4i + p = element 32i + 4s + p of the chunk), 16 f32 block
    // scales, 16 int32 negated block sums -Σq (kernels start their accumulators there). Q8_K rows:
    // n_in/256 int32 block sums Σq. nullptr otherwise. Rows start on a 64-byte boundary.
    const uint8_t* aux(int64_t r) const {
        return aux_row_bytes_ ? align64(aux_) + static_cast<size_t>(r) * aux_row_bytes_ : nullptr;
    }
    // Q8_K rows with n_in % 2048 == 0: the R16T transposition (repack.h) of row r, n_in/2048 chunks of
    // 2176 bytes: 2048 int8 at 64s + 4i + p (step s < 32, lane i < 16, p < 4) = element
    // 256(i/2) + 128(i%2) + 4s + p of the chunk, then 16 f32 (lane i: scale d of block i/2), then 16 int32
    // (lane i: minus the sum of its 128 int8). nullptr otherwise. Rows start on a 64-byte boundary.
    const uint8_t* taux(int64_t r) const {
        return taux_row_bytes_ ? align64(taux_) + static_cast<size_t>(r) * taux_row_bytes_ : nullptr;
    }
    // Q8_0 rows prepared with q1_tables: row r's tables for the AVX2 R32L kernel (kernels_avx2_table.cpp),
    // q1_table_bytes(n_in) bytes; nullptr otherwise. Built once here for every thread: 8 bytes per element
    // (a 512-token batch of 6144-wide rows: 25 MB), read by every row block of the weights.
    const uint8_t* q1_tables(int64_t r) const {
        return q1t_row_bytes_ ? q1t_.data() + static_cast<size_t>(r) * q1t_row_bytes_ : nullptr;
    }
    // Q8_0 batches of more than detail::kAmxMinTokens rows where the own AMX kernels run (amx_kernels_enabled,
    // n_in % 128 == 0): row r rounded again from the floats with one scale per 128 values (d = max|x| / 127,
    // q = round(x / d)) for the Q1_0 / Q2_0 AMX prompt tiles, whose integer sums then run over a whole
    // weight-scale group (128 / 64 values) before each float epilogue instead of over one 32-value block
    // (kernels_amx.cpp). x128(r): n_in int8; x128_scales(r): n_in / 128 f32; rows x128_stride() bytes
    // apart, 64-byte aligned; nullptr otherwise. Built for every such batch, also for the weight types
    // that do not read it (one AVX-512 pass over the floats).
    const int8_t* x128(int64_t r) const {
        return x128_row_bytes_ ? reinterpret_cast<const int8_t*>(align64(x128_) + static_cast<size_t>(r) * x128_row_bytes_)
                               : nullptr;
    }
    const float* x128_scales(int64_t r) const {
        return x128_row_bytes_ ? reinterpret_cast<const float*>(x128(r) + n_in_) : nullptr;
    }
    int64_t x128_stride() const { return static_cast<int64_t>(x128_row_bytes_); }
    // Process-wide unique id of the current contents, new on every prepare(): lets kernels cache data
    // derived from these activations (kernels_ext.h) across the calls of one matmul and shared inputs.
    uint64_t generation() const { return generation_; }

private:
    // The first 64-byte boundary in `v` (allocated 64 bytes larger): the kernels' 64-byte vector loads of
    // aux_ / taux_ then never straddle two cache lines.
    static uint8_t* align64(const std::vector<uint8_t>& v) {
        return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t(63));
    }
    ActFormat fmt_ = ActFormat::F32;
    int64_t n_rows_ = 0, n_in_ = 0;
    size_t row_bytes_ = 0, aux_row_bytes_ = 0, taux_row_bytes_ = 0, q1t_row_bytes_ = 0, x128_row_bytes_ = 0;
    std::vector<uint8_t> buf_;
    std::vector<uint8_t> q1t_;
    std::vector<uint8_t> aux_;
    std::vector<uint8_t> taux_;
    std::vector<uint8_t> x128_;
    // Converts row r of x (one row of n_in_ floats); `sums` has room for one int32 per block.
    void convert_row(int64_t r, const float* xr, int32_t* sums);
    uint64_t generation_ = 0;
};

// y[t·n_out + o] = Σ_i W[o][i] · x[t·n_in + i] for t < n_tok, o < n_out; rows split over the pool.
// (Prepares `scratch` for w, the R16T form included when w needs it.)
void matmul(const Weight& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool, Activations& scratch);

// Same, with activations already converted by `acts` (must match act_format(w.type) and w.n_in).
void matmul_prepared(const Weight& w, const Activations& acts, float* y, ThreadPool& pool);

// matmul_prepared for n <= 8 weights sharing `acts` (e.g. q/k/v, gate/up): ys[i] = ws[i]·acts. For a
// decode-sized batch whose weights all have SIMD kernels this is one pool job instead of n.
void matmul_prepared_many(const Weight* const* ws, float* const* ys, int n, const Activations& acts, ThreadPool& pool);

// One dot product of weight row `o` with activation row `t` (exposed for tests and tiny ops).
float dot_row(const Weight& w, int64_t o, const Activations& acts, int64_t t);

// Fast fp16 -> fp32 through a table built from bonsai::fp16_to_fp32 (identical results).
float half_to_float(uint16_t h);

}  // namespace bonsai::cpu
