// Architecture "qwen3" (formats.md §3): pre-norm blocks, per-head RMSNorm of q and k before NEOX RoPE,
// GQA attention, SwiGLU FFN; LM head output.weight or tied token_embd.
#include "model/model_impl.h"

namespace bonsai::model_detail {
namespace {

void bind(const TensorBinder& b, const HParams& hp, Weights& w) {
    bind_common(b, hp, w);
    const int64_t E = hp.n_embd, D = hp.head_dim, QD = hp.n_head * D, KD = hp.n_head_kv * D, F = hp.n_ff;
    w.layers.resize(static_cast<size_t>(hp.n_layer));
    for (int64_t il = 0; il < hp.n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        LayerWeights& l = w.layers[static_cast<size_t>(il)];
        l.attn_norm = b.vec(p + "attn_norm.weight", E);
        l.wq = b.linear(p + "attn_q", E, QD);
        l.wk = b.linear(p + "attn_k", E, KD);
        l.wv = b.linear(p + "attn_v", E, KD);
        l.q_norm = b.vec(p + "attn_q_norm.weight", D);
        l.k_norm = b.vec(p + "attn_k_norm.weight", D);
        l.wo = b.linear(p + "attn_output", QD, E);
        l.ffn_norm = b.vec(p + "ffn_norm.weight", E);
        l.gate = b.linear(p + "ffn_gate", E, F);
        l.up = b.linear(p + "ffn_up", E, F);
        l.down = b.linear(p + "ffn_down", F, E);
    }
}

void layer(const HParams& hp, const Weights& w, int64_t il, ForwardState& st, int64_t n, int64_t pos0, KvCache& kv,
           cpu::ThreadPool& pool) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const int64_t E = hp.n_embd;
    rms_norm(st.x.data(), l.attn_norm.data(), st.xn.data(), n, E, hp.rms_eps, &pool);
    self_attention(hp, l, nullptr, st, il, n, pos0, kv, pool);
    linear(l.wo, st.att.data(), n, st.tmp.data(), pool, st.acts);
    add_inplace(st.x.data(), st.tmp.data(), n * E, &pool);
    rms_norm(st.x.data(), l.ffn_norm.data(), st.xn.data(), n, E, hp.rms_eps, &pool);
    gated_ffn(hp, l, st, n, pool);
    linear(l.down, st.g.data(), n, st.tmp.data(), pool, st.acts);
    add_inplace(st.x.data(), st.tmp.data(), n * E, &pool);
}

}  // namespace

const ArchOps& qwen3_ops() {
    static const ArchOps ops{"qwen3", bind, layer};
    return ops;
}

}  // namespace bonsai::model_detail
