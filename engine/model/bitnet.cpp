// BitNet b1.58 (formats.md §4), both dialects:
//  - "bitnet" (llama.cpp): TQ1_0/TQ2_0/F16/F32 weights with optional one-element *.scale tensors that
//    multiply each projection, SiLU gate unless <arch>.hidden_activation says otherwise;
//  - "bitnet-b1.58"/"bitnet-25" (Microsoft's fork): I2_S weights carrying their own per-tensor scale,
//    per-token int8 activations (the matmul's I8_ROW path), squared-ReLU gate.
// Both: NEOX RoPE, no QK-norm, RMSNorm of the attention output before attn_output (attn_sub_norm)
// and of the gated FFN activations before ffn_down (ffn_sub_norm).
#include "model/model_impl.h"

namespace bonsai::model_detail {
namespace {

void bind(const TensorBinder& b, const HParams& hp, Weights& w) {
    bind_common(b, hp, w);
    const int64_t E = hp.n_embd, D = hp.head_dim, QD = hp.n_head * D, KD = hp.n_head_kv * D, F = hp.n_ff;
    const bool scales = hp.arch == "bitnet";
    w.layers.resize(static_cast<size_t>(hp.n_layer));
    for (int64_t il = 0; il < hp.n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        LayerWeights& l = w.layers[static_cast<size_t>(il)];
        l.attn_norm = b.vec(p + "attn_norm.weight", E);
        l.wq = b.linear(p + "attn_q", E, QD, scales);
        l.wk = b.linear(p + "attn_k", E, KD, scales);
        l.wv = b.linear(p + "attn_v", E, KD, scales);
        l.attn_sub_norm = b.vec(p + "attn_sub_norm.weight", QD);
        l.wo = b.linear(p + "attn_output", QD, E, scales);
        l.ffn_norm = b.vec(p + "ffn_norm.weight", E);
        l.gate = b.linear(p + "ffn_gate", E, F, scales);
        l.up = b.linear(p + "ffn_up", E, F, scales);
        l.ffn_sub_norm = b.vec(p + "ffn_sub_norm.weight", F);
        l.down = b.linear(p + "ffn_down", F, E, scales);
    }
}

void layer(const HParams& hp, const Weights& w, int64_t il, ForwardState& st, int64_t n, int64_t pos0, KvCache& kv,
           cpu::ThreadPool& pool) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const int64_t E = hp.n_embd, QD = hp.n_head * hp.head_dim, F = hp.n_ff;
    rms_norm(st.x.data(), l.attn_norm.data(), st.xn.data(), n, E, hp.rms_eps, &pool);
    self_attention(hp, l, nullptr, st, il, n, pos0, kv, pool);
    rms_norm(st.att.data(), l.attn_sub_norm.data(), st.att.data(), n, QD, hp.rms_eps, &pool);
    linear(l.wo, st.att.data(), n, st.tmp.data(), pool, st.acts);
    add_inplace(st.x.data(), st.tmp.data(), n * E, &pool);
    rms_norm(st.x.data(), l.ffn_norm.data(), st.xn.data(), n, E, hp.rms_eps, &pool);
    gated_ffn(hp, l, st, n, pool);
    rms_norm(st.g.data(), l.ffn_sub_norm.data(), st.g.data(), n, F, hp.rms_eps, &pool);
    linear(l.down, st.g.data(), n, st.tmp.data(), pool, st.acts);
    add_inplace(st.x.data(), st.tmp.data(), n * E, &pool);
}

}  // namespace

const ArchOps& bitnet_ops() {
    static const ArchOps ops{"bitnet", bind, layer};
    return ops;
}

}  // namespace bonsai::model_detail
