#include "model/layers.h"

#include "backend/cpu/row_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace bonsai::model_detail {

namespace {
// f(b, e) over [0, n): split over the pool's threads when there is one and n reaches `min_split`
// (prompt batches), else in one call on this thread (decode: one row, no job). Activations::prepare
// splits its rows the same way from 8 rows.
template <class F>
void split(cpu::ThreadPool* pool, int64_t n, int64_t min_split, const F& f) {
    if (pool && n >= min_split) {
        pool->parallel_for(n, [&](int64_t b, int64_t e) { f(b, e); });
    } else if (n > 0) {
        f(0, n);
    }
}
constexpr int64_t kSplitRows = 8;             // rows (tokens) of a batch worth splitting
constexpr int64_t kSplitValues = 8 * 2048;    // values of an element-wise op worth splitting
}  // namespace

void rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps, cpu::ThreadPool* pool) {
    split(pool, n_rows, kSplitRows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float mean = static_cast<float>(cpu::sum_squares(x + r * n, n) / static_cast<double>(n));
            cpu::scale_mul(x + r * n, 1.0f / std::sqrt(mean + eps), w, y + r * n, n);
        }
    });
}

void rope(float* x, int64_t n_tok, int64_t n_heads, int64_t head_dim, int64_t pos0, const HParams& hp,
          const float* freq_factors, cpu::ThreadPool* pool) {
    const int64_t n_rot = hp.n_rot;
    const float theta_scale = std::pow(hp.rope_freq_base, -2.0f / static_cast<float>(n_rot));
    split(pool, n_tok, kSplitRows, [&](int64_t t0, int64_t t1) {
        thread_local std::vector<float> cs;
        cs.resize(static_cast<size_t>(n_rot));
        for (int64_t t = t0; t < t1; ++t) {
            // Angles as ggml builds its cache: theta starts at the position and is multiplied per pair.
            float theta = static_cast<float>(pos0 + t);
            for (int64_t i0 = 0; i0 < n_rot; i0 += 2) {
                const float ff = freq_factors ? freq_factors[i0 / 2] : 1.0f;
                const float th = hp.rope_freq_scale * (theta / ff);
                cs[static_cast<size_t>(i0)] = std::cos(th);
                cs[static_cast<size_t>(i0 + 1)] = std::sin(th);
                theta *= theta_scale;
            }
            for (int64_t h = 0; h < n_heads; ++h) {
                float* v = x + (t * n_heads + h) * head_dim;
                for (int64_t i0 = 0; i0 < n_rot; i0 += 2) {
                    const float c = cs[static_cast<size_t>(i0)], s = cs[static_cast<size_t>(i0 + 1)];
                    const int64_t a = hp.rope_type == RopeType::Neox ? i0 / 2 : i0;
                    const int64_t b = hp.rope_type == RopeType::Neox ? i0 / 2 + n_rot / 2 : i0 + 1;
                    const float x0 = v[a], x1 = v[b];
                    v[a] = x0 * c - x1 * s;
                    v[b] = x0 * s + x1 * c;
                }
            }
        }
    });
}

namespace {
// BitNet's per-tensor weight scale, applied to the n_tok output rows of l.
void apply_scale(const Linear& l, float* y, int64_t n_tok) {
    if (!l.has_scale) return;
    const int64_t n = n_tok * l.w.n_out;
    for (int64_t i = 0; i < n; ++i) y[i] *= l.scale;
}
}  // namespace

void linear(const Linear& l, const float* x, int64_t n_tok, float* y, cpu::ThreadPool& pool, cpu::Activations& scratch) {
    cpu::matmul(l.w, x, n_tok, y, pool, scratch);
    apply_scale(l, y, n_tok);
}

void linear_prepared(const Linear& l, const cpu::Activations& acts, float* y, cpu::ThreadPool& pool) {
    cpu::matmul_prepared(l.w, acts, y, pool);
    apply_scale(l, y, acts.n_rows());
}

void linear_shared(const Linear* const* ls, float* const* ys, int n, const float* x, int64_t n_tok, cpu::ThreadPool& pool,
                   cpu::Activations& scratch) {
    bool same = true;
    for (int i = 1; i < n; ++i)
        same = same && cpu::act_format(ls[i]->w.type) == cpu::act_format(ls[0]->w.type) && ls[i]->w.n_in == ls[0]->w.n_in;
    if (!same) {
        for (int i = 0; i < n; ++i) linear(*ls[i], x, n_tok, ys[i], pool, scratch);
        return;
    }
    bool r16t = false, q1t = false;  // the transposed Q8_K form / the Q1_0 tables, when any of the weights reads them
    for (int i = 0; i < n; ++i) {
        r16t = r16t || ls[i]->w.layout == cpu::Layout::R16T;
        q1t = q1t || ls[i]->w.layout == cpu::Layout::R32L;
    }
    scratch.prepare(cpu::act_format(ls[0]->w.type), x, n_tok, ls[0]->w.n_in, r16t, &pool, q1t);
    if (n > 8) {
        for (int i = 0; i < n; ++i) linear_prepared(*ls[i], scratch, ys[i], pool);
        return;
    }
    const cpu::Weight* ws[8];
    for (int i = 0; i < n; ++i) ws[i] = &ls[i]->w;
    cpu::matmul_prepared_many(ws, ys, n, scratch, pool);
    for (int i = 0; i < n; ++i) apply_scale(*ls[i], ys[i], n_tok);
}

void attention(const float* q, int64_t n_tok, int64_t pos0, const KvCache& kv, int64_t layer, const HParams& hp,
               float* out, cpu::ThreadPool& pool) {
    const int64_t D = hp.head_dim, H = hp.n_head, HK = hp.n_head_kv, G = hp.n_head / hp.n_head_kv;
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    // One work item is a tile of T consecutive tokens against one KV head: its T·G query rows (8 when
    // G ≤ 8) share each K/V row conversion in passes of 4 rows (attend_tokens), the second pass finding
    // the rows in cache. Items run head-major, latest tile first; a prompt's items are claimed in small
    // grains because causality makes their costs grow with the token (equal static chunks left one
    // thread with ~3/4 of the work). A head's K (and V) rows are contiguous in the cache (kv_cache.h),
    // one sequential stream.
    const int64_t T = std::clamp<int64_t>(8 / G, 1, n_tok), n_tiles = (n_tok + T - 1) / T;
    const int64_t grain = n_tok > 1 ? std::max<int64_t>(1, 32 / T) : 0;
    pool.parallel_for(n_tiles * HK, [&](int64_t w0, int64_t w1) {
        thread_local std::vector<float> qh, sc;
        qh.resize(static_cast<size_t>(T * G * D));
        sc.resize(static_cast<size_t>(T * G * (pos0 + n_tok)));
        for (int64_t w = w0; w < w1; ++w) {
            const int64_t g = w / n_tiles, t0 = (n_tiles - 1 - w % n_tiles) * T, nt = std::min(T, n_tok - t0);
            // Q is rounded to the cache type (f16) before the K products, as llama.cpp does.
            for (int64_t i = 0; i < nt; ++i) cpu::round_f16_row(q + ((t0 + i) * H + g * G) * D, qh.data() + i * G * D, G * D);
            // causal: token t0 + i attends positions 0..pos0+t0+i
            cpu::attend_tokens(qh.data(), static_cast<int>(nt), static_cast<int>(G), D, kv.k(layer, g), kv.v(layer, g), D,
                               pos0 + t0 + 1, scale, sc.data(), out + (t0 * H + g * G) * D, H * D);
        }
    }, grain);
}

void glu(float* g, const float* u, int64_t n, FfnActivation act, cpu::ThreadPool* pool) {
    split(pool, n, kSplitValues, [&](int64_t b, int64_t e) {
        if (act == FfnActivation::Silu) {
            cpu::silu_mul(g + b, u + b, e - b);
        } else {
            for (int64_t i = b; i < e; ++i) {
                const float r = g[i] > 0.0f ? g[i] : 0.0f;
                g[i] = (r * r) * u[i];
            }
        }
    });
}

void add_inplace(float* x, const float* y, int64_t n, cpu::ThreadPool* pool) {
    split(pool, n, kSplitValues, [&](int64_t b, int64_t e) { cpu::add_rows(x + b, y + b, e - b); });
}

}  // namespace bonsai::model_detail

namespace bonsai::model_detail {

void ForwardState::reserve(const HParams& hp, int64_t n_tok) {
    const auto n = static_cast<size_t>(n_tok);
    const auto E = static_cast<size_t>(hp.n_embd), QD = static_cast<size_t>(hp.n_head * hp.head_dim),
               KD = static_cast<size_t>(hp.n_head_kv * hp.head_dim), F = static_cast<size_t>(hp.n_ff);
    x.resize(n * E);
    xn.resize(n * std::max(E, std::max(QD, F)));
    q.resize(n * QD);
    k.resize(n * KD);
    v.resize(n * KD);
    att.resize(n * QD);
    tmp.resize(n * std::max(E, QD));
    g.resize(n * F);
    u.resize(n * F);
}

void self_attention(const HParams& hp, const LayerWeights& lw, const float* rope_freqs, ForwardState& st,
                    int64_t layer, int64_t n_tok, int64_t pos0, KvCache& kv, cpu::ThreadPool& pool) {
    const int64_t D = hp.head_dim;
    const Linear* ls[3] = {&lw.wq, &lw.wk, &lw.wv};
    float* ys[3] = {st.q.data(), st.k.data(), st.v.data()};
    linear_shared(ls, ys, 3, st.xn.data(), n_tok, pool, st.acts);
    if (!lw.q_norm.empty()) rms_norm(st.q.data(), lw.q_norm.data(), st.q.data(), n_tok * hp.n_head, D, hp.rms_eps, &pool);
    if (!lw.k_norm.empty()) rms_norm(st.k.data(), lw.k_norm.data(), st.k.data(), n_tok * hp.n_head_kv, D, hp.rms_eps, &pool);
    rope(st.q.data(), n_tok, hp.n_head, D, pos0, hp, rope_freqs, &pool);
    rope(st.k.data(), n_tok, hp.n_head_kv, D, pos0, hp, rope_freqs, &pool);
    kv.store(layer, pos0, n_tok, st.k.data(), st.v.data());
    attention(st.q.data(), n_tok, pos0, kv, layer, hp, st.att.data(), pool);
}

void gated_ffn(const HParams& hp, const LayerWeights& lw, ForwardState& st, int64_t n_tok, cpu::ThreadPool& pool) {
    const Linear* ls[2] = {&lw.gate, &lw.up};
    float* ys[2] = {st.g.data(), st.u.data()};
    linear_shared(ls, ys, 2, st.xn.data(), n_tok, pool, st.acts);
    glu(st.g.data(), st.u.data(), n_tok * hp.n_ff, hp.ffn_act, &pool);
}

}  // namespace bonsai::model_detail
