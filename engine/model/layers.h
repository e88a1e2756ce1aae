#pragma once
// Layer helpers shared by every architecture. Each mirrors llama.cpp's CPU arithmetic (see the
// fixtures README): RMSNorm in f32 with a double sum, RoPE angles by repeated f32 multiplication,
// attention with Q and the softmax probabilities rounded to F16 against the F16 KV cache.
#include <cstdint>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/thread_pool.h"
#include "bonsai/model.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace bonsai::model_detail {

// The row operations below take an optional pool: with one and a prompt-sized batch they split their rows
// over its threads (a prompt's norms, RoPE, gating, residual adds and quantization otherwise ran on the
// calling thread while the others waited: ~7 % of a 512-token prompt on 2 threads). Results do not
// depend on the split.

// y = x / sqrt(mean(x²) + eps) ⊙ w over n_rows rows of n (y may alias x). w == nullptr: no weight.
void rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps,
              cpu::ThreadPool* pool = nullptr);

// Rotates the first n_rot dims of every head of n_tok rows (each n_heads · head_dim) in place;
// token t is at position pos0 + t. freq_factors (n_rot/2 divisors) may be null.
void rope(float* x, int64_t n_tok, int64_t n_heads, int64_t head_dim, int64_t pos0, const HParams& hp,
          const float* freq_factors, cpu::ThreadPool* pool = nullptr);

// y[t] = scale · W·x[t] for n_tok rows.
void linear(const Linear& l, const float* x, int64_t n_tok, float* y, cpu::ThreadPool& pool, cpu::Activations& scratch);

// linear() on activations already prepared for l (act_format(l.w.type), n_in = l.w.n_in).
void linear_prepared(const Linear& l, const cpu::Activations& acts, float* y, cpu::ThreadPool& pool);

// ys[i] = ls[i]·x for n projections of the same input, quantizing x once when they share a format.
void linear_shared(const Linear* const* ls, float* const* ys, int n, const float* x, int64_t n_tok, cpu::ThreadPool& pool,
                   cpu::Activations& scratch);

// Causal GQA attention of n_tok query rows (n_head · head_dim each; token t at position pos0 + t)
// against positions 0..pos0+t of `layer` in the cache. Writes n_tok rows of n_head · head_dim.
void attention(const float* q, int64_t n_tok, int64_t pos0, const KvCache& kv, int64_t layer, const HParams& hp,
               float* out, cpu::ThreadPool& pool);

// g = act(g) ⊙ u over n values (SiLU or squared ReLU gate).
void glu(float* g, const float* u, int64_t n, FfnActivation act, cpu::ThreadPool* pool = nullptr);

// x += y over n values.
void add_inplace(float* x, const float* y, int64_t n, cpu::ThreadPool* pool = nullptr);

}  // namespace bonsai::model_detail

namespace bonsai::model_detail {

// Scratch buffers of one forward pass (owned by a Session, reused between calls).
struct ForwardState {
    std::vector<float> x;       // residual stream, n_tok × n_embd
    std::vector<float> xn;      // normalized input of a block
    std::vector<float> q, k, v; // projections
    std::vector<float> att;     // attention output, n_tok × n_head · head_dim
    std::vector<float> tmp;     // block output before the residual add
    std::vector<float> g, u;    // FFN gate / up
    std::vector<float> logits;  // rows × n_vocab
    int64_t logits_rows = 0;
    cpu::Activations acts;
    // Sizes every buffer for n_tok tokens.
    void reserve(const HParams& hp, int64_t n_tok);
};

// The attention half of a layer on st.xn: q/k/v projections, per-head QK-norm when q_norm/k_norm are
// non-empty, RoPE, KV store for positions pos0.., attention. Leaves the result in st.att.
void self_attention(const HParams& hp, const LayerWeights& lw, const float* rope_freqs, ForwardState& st,
                    int64_t layer, int64_t n_tok, int64_t pos0, KvCache& kv, cpu::ThreadPool& pool);

// The gated FFN on st.xn without the down projection: st.g = act(gate·xn) ⊙ (up·xn).
void gated_ffn(const HParams& hp, const LayerWeights& lw, ForwardState& st, int64_t n_tok, cpu::ThreadPool& pool);

}  // namespace bonsai::model_detail
