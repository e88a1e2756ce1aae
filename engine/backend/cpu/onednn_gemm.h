#pragma once
// Prefill GEMM through oneDNN (Debian's libdnnl 2.6): the 1-bit / ternary weight is expanded, a panel of
// rows at a time, into bf16 (or f32) values d·q and multiplied with the dequantized activation rows by a
// oneDNN matmul primitive (brgemm kernels: AVX-512 BF16 `vdpbf16ps`, or AMX tiles where the kernel grants
// them, see cpu_features.h amx_granted()).
//
// Numerics: the activations are those of matmul.h (Q8_0 / Q8_K blocks, as llama.cpp quantizes them),
// dequantized to d·q; with Precision::F32 the products d_w·q_w·d_x·q_x are then formed in f32 (exactly
// llama.cpp's values up to float rounding and summation order); with Precision::BF16 the weight value
// d_w·q_w and the activation value d_x·q_x are each rounded to bf16 (relative error <= 2^-8 each: 8 significant bits).
//
// Threading: the pool's threads each take a contiguous range of panels and run oneDNN single-threaded on
// them (Debian builds oneDNN with OpenMP; its thread count is forced to 1 in the pool's threads), so the
// pool's size is the total thread count and each panel stays in that core's cache.
#include <cstdint>
#include <string>

#include "backend/cpu/matmul.h"
#include "backend/cpu/thread_pool.h"

namespace bonsai::cpu::onednn {

// Data type the expanded weights and activations are multiplied in.
enum class Precision { BF16, F32 };

// When matmul() hands a call to oneDNN: Auto = the measured table in preferred(); Always = every
// supported weight with n_tok >= kMinTokens; Never = never. The initial value comes from the
// environment: BONSAI_ONEDNN=1 -> Always, BONSAI_ONEDNN=0 -> Never, unset/other -> Auto.
enum class Policy { Auto, Always, Never };

// Below this many tokens (decode, short prompts) oneDNN is never used: expanding the weight costs more
// than the product.
constexpr int64_t kMinTokens = 16;

// True when gemm() can run `w`: Q1_0 (Native, R16, R16M), Q2_0 (Native, R16), TQ1_0, TQ2_0 (Native).
bool supports(const Weight& w);

// y[t·n_out + o] = W[o]·a[t] through oneDNN. `acts` must be in act_format(w.type) with n_in = w.n_in.
// Throws bonsai::Error for an unsupported weight or mismatched activations, or when oneDNN fails.
void gemm(const Weight& w, const Activations& acts, float* y, ThreadPool& pool, Precision p = Precision::BF16);

// The hook matmul_prepared() calls: runs gemm() and returns true when the policy picks oneDNN for this
// weight and token count, else returns false (the caller runs its own kernels). If oneDNN ever fails,
// it is switched off for the rest of the process and false is returned.
bool try_gemm(const Weight& w, const Activations& acts, float* y, ThreadPool& pool);

// The measured choice (Policy::Auto): true when oneDNN beat the own kernels for this type and shape.
bool preferred(const Weight& w, int64_t n_tok);

void set_policy(Policy p);  // for benchmarks and tests; calls already past the check keep their choice
Policy policy();

// One line for logs and benchmarks: oneDNN version and CPU runtime, effective ISA, AMX status.
std::string describe();

// True when oneDNN has a matmul for this precision on this CPU (checked once, on a small shape). oneDNN 2.6
// has no bf16 matmul for CPUs without AVX-512 (AVX2 only, e.g. Zen 3): there gemm(..., BF16) throws and
// try_gemm() switches oneDNN off for the process; the own kernels run every matmul.
bool available(Precision p);

// oneDNN's implementation name for a bf16/f32 matmul of this shape (e.g. "brg:avx512_core_bf16"),
// for benchmarks: shows which kernel family oneDNN chose.
std::string impl_name(int64_t n_tok, int64_t n_in, int64_t n_rows, Precision p);

}  // namespace bonsai::cpu::onednn
