// The forward pass on the Vulkan backend: per layer the same sequence as qwen3.cpp / llama.cpp /
// bitnet.cpp, each step one op of bonsai::VulkanBackend, all recorded into one command buffer.
#include "model/vulkan_forward.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <vector>

#include "backend/cpu/repack.h"
#include "bonsai/error.h"
#include "bonsai/tensor_type.h"

namespace bonsai::model_detail {

bool vulkan_gpu_available() {
    static const bool available = [] {
        for (const VulkanDeviceInfo& d : list_vulkan_devices())
            if (d.suitable && d.type != "cpu") return true;
        return false;
    }();
    return available;
}

namespace {

constexpr uint32_t k_none = std::numeric_limits<uint32_t>::max();
// Keys per workgroup of split-KV decoding attention (VulkanAttention::split_len): by default chosen
// per step between k_attention_split_min and k_attention_split so that n_head x splits reaches about
// k_attention_wgs workgroups (H100, 1.7B at ~600 positions: 64 keys per workgroup 4 % faster than
// 16 since the merge reads the splits in parallel; before that, 64 left it mostly idle). The
// environment variable BONSAI_VULKAN_ATTENTION_SPLIT fixes it instead (tests use small values to reach
// the split path with short contexts; 0 turns splitting off).
constexpr uint32_t k_attention_split = 64;
constexpr uint32_t k_attention_split_min = 16;
constexpr uint32_t k_attention_wgs = 256;
constexpr uint32_t k_split_auto = std::numeric_limits<uint32_t>::max();

uint32_t attention_split_from_env() {
    const char* e = std::getenv("BONSAI_VULKAN_ATTENTION_SPLIT");
    if (!e || !*e) return k_split_auto;
    char* end = nullptr;
    const unsigned long v = std::strtoul(e, &end, 10);
    if (*end != '\0' || v > 65536) throw Error("BONSAI_VULKAN_ATTENTION_SPLIT must be a number of keys (0..65536)");
    return static_cast<uint32_t>(v);
}

// Split length of one decode step at n_kv positions; at most `cap_splits` splits (the scratch's size).
uint32_t attention_split_len(uint32_t fixed, int64_t n_kv, int64_t n_head, int64_t cap_splits) {
    if (fixed != k_split_auto) return fixed;
    int64_t len = (n_kv * n_head + k_attention_wgs - 1) / k_attention_wgs;
    len = std::clamp<int64_t>((len + 15) / 16 * 16, k_attention_split_min, k_attention_split);
    len = std::max<int64_t>(len, (n_kv + cap_splits - 1) / std::max<int64_t>(cap_splits, 1));
    return static_cast<uint32_t>(len);
}
// Logits rows read back per submit: bounds the host-visible logits buffer for large vocabularies.
constexpr uint64_t k_logits_bytes = 32ull << 20;

// A projection on the device: y = scale · W·x, its rows at byte `off` of `buf` (projections that
// read the same input share one buffer, see Impl::upload_group).
struct DevLinear {
    TensorType type = TensorType::F32;
    uint32_t n_in = 0, n_out = 0;
    const VulkanBuffer* buf = nullptr;
    uint64_t off = 0;
    float scale = 1.0f;
    bool has_scale = false;
};

// Offsets (in floats) of a layer's norm vectors inside the shared norm buffer; k_none when absent.
struct DevLayer {
    uint32_t attn_norm = k_none, q_norm = k_none, k_norm = k_none, attn_sub_norm = k_none, ffn_norm = k_none,
             ffn_sub_norm = k_none;
    DevLinear wq, wk, wv, wo, gate, up, down;
    bool qkv_fused = false;  // wq|wk|wv contiguous in one buffer: one matvec for a single token
    bool gu_fused = false;   // gate|up likewise
};

uint32_t to_u32(int64_t v, const char* what) {
    if (v < 0 || v > static_cast<int64_t>(std::numeric_limits<uint32_t>::max()))
        throw Error(std::string("Vulkan: ") + what + " does not fit in 32 bits");
    return static_cast<uint32_t>(v);
}

VulkanRef at(const VulkanBuffer& b, uint64_t float_index) { return VulkanRef(b, float_index * 4); }

}  // namespace

struct VulkanModel::Impl {
    // Declared first so that it is destroyed last: every buffer below belongs to it.
    VulkanBackend vk;
    HParams hp;
    const Weights* w = nullptr;  // host weights: token embeddings are looked up on the CPU
    const gguf::GgufFile* file = nullptr;
    std::deque<VulkanBuffer> weights;  // deque: DevLinear::buf pointers stay valid as it grows
    std::vector<float> norm_host;
    VulkanBuffer norms;          // every norm vector of the model, concatenated
    uint32_t output_norm = k_none;
    uint32_t rope_freqs = k_none;  // Llama 3's rope_freqs.weight, in the norm buffer
    std::vector<DevLayer> layers;
    DevLinear output;
    // Keys per split-KV decoding workgroup: k_split_auto (chosen per step), a fixed number, or 0: no split.
    uint32_t attn_split = k_split_auto;
    // Decode steps run qkv_post inside the attention dispatch (attention_decode); BONSAI_VULKAN_FUSED_ATTENTION=0
    // keeps the two dispatches (comparisons).
    bool fused_attention = true;
    // Prompts with fused q|k|v weights run them as one matmul (record_layer); BONSAI_VULKAN_PROMPT_QKV=0
    // keeps three (comparisons).
    bool fused_prompt_qkv = true;
    // Layers per command buffer submitted ahead of the step's end (VulkanBackend::flush); 0: one
    // submit per step. BONSAI_VULKAN_FLUSH_LAYERS overrides.
    size_t flush_layers = 8;
    // One token: the matvecs that produce a matvec's input round it to int8 once for it
    // (VulkanMatvecRounding) instead of every workgroup of that matvec rounding it again. 1 (default):
    // the residual stream (by the output and down projections, for the norm-fused matvecs); 2: also the
    // SwiGLU output (by gate|up, for the down projection: on an H100 the down projection gained 5.7-6.2
    // us per 8B layer and gate|up lost 1.9, but the step, with one more shader module to switch to, was
    // not faster: 8B Q2_0 tg128 338-345 against 343-349 tok/s with the modules shared, 300 without;
    // docs/vulkan.md); 0: none. BONSAI_VULKAN_ROUNDED_INPUTS overrides.
    int rounded_inputs = 1;
    // BONSAI_VULKAN_TRACE=1 (diagnostics): each forward call prints where its wall time went on the
    // host (embedding rows, recording, the wait for the GPU) to stderr.
    bool trace = false;
    std::mutex mu;

    Impl() : vk(VulkanBackend::Options::from_environment()) {}

    uint32_t add_norm(const std::vector<float>& v) {
        if (v.empty()) return k_none;
        const uint32_t off = to_u32(static_cast<int64_t>(norm_host.size()), "norm offset");
        norm_host.insert(norm_host.end(), v.begin(), v.end());
        return off;
    }

    // Uploads projections that read the same input. When they share type and width and have no scale
    // they go into one buffer, rows back to back, so that a single-token step can run them as one
    // matvec (fewer dispatches and barriers). Returns whether they were fused.
    bool upload_group(std::initializer_list<std::pair<const Linear*, DevLinear*>> group) {
        bool fuse = group.size() > 1;
        const Linear& first = *group.begin()->first;
        // (I2_S tensors carry their own scale after their rows: never fused.)
        for (const auto& [l, d] : group)
            fuse = fuse && l->w.type == first.w.type && l->w.n_in == first.w.n_in && !l->has_scale &&
                   l->w.type != TensorType::I2_S;
        size_t total = 0;
        for (const auto& [l, d] : group) {
            if (!VulkanBackend::supports_matvec(l->w.type))
                throw Error("tensor '" + l->name + "' has type " + tensor_type_name(l->w.type) +
                            ", which the Vulkan backend does not support yet");
            d->type = l->w.type;
            d->n_in = to_u32(l->w.n_in, "tensor width");
            d->n_out = to_u32(l->w.n_out, "tensor height");
            d->scale = l->scale;
            d->has_scale = l->has_scale;
            d->off = fuse ? total : 0;
            total += device_bytes(*l);
        }
        try {
            if (fuse) weights.push_back(vk.create_buffer(total, VulkanMemory::DeviceLocal));
            for (const auto& [l, d] : group) {
                const size_t bytes = device_bytes(*l);
                if (!fuse) weights.push_back(vk.create_buffer(bytes, VulkanMemory::DeviceLocal));
                d->buf = &weights.back();
                std::vector<uint8_t> unpacked;
                vk.upload(weights.back(), d->off, native_bytes(*l, bytes, unpacked), bytes);
            }
        } catch (const Error& e) {
            throw Error("tensor '" + first.name + "': " + e.what());
        }
        return fuse;
    }

    // Bytes of a projection on the device: its rows, and for I2_S the 32-byte tail holding its scale.
    static size_t device_bytes(const Linear& l) {
        const size_t rows = row_nbytes(l.w.type, l.w.n_in) * static_cast<size_t>(l.w.n_out);
        return l.w.type == TensorType::I2_S ? rows + 32 : rows;
    }

    // The tensor's bytes in the GGUF block layout: the file's copy (the CPU backend may have replaced
    // l.w.data by a repacked layout the shaders do not read). Where the CPU form has another type than
    // the file (TQ1_0 held as TQ2_0 on AVX2) and is also repacked, its rows are unpacked into `scratch`.
    const uint8_t* native_bytes(const Linear& l, size_t bytes, std::vector<uint8_t>& scratch) const {
        const gguf::TensorInfo* t = file->tensor(l.name);
        if (t && t->type == l.w.type && t->nbytes >= bytes) return t->data;
        if (l.w.layout == cpu::Layout::Native) return l.w.data;
        const size_t row = row_nbytes(l.w.type, l.w.n_in);
        if (row * static_cast<size_t>(l.w.n_out) != bytes) throw Error("tensor '" + l.name + "': its file bytes were not found");
        scratch.resize(bytes);
        for (int64_t o = 0; o < l.w.n_out; ++o) cpu::unpack_row_r16(l.w, o, scratch.data() + row * static_cast<size_t>(o));
        return scratch.data();
    }

    // y = scale · W·x for n token rows (matvec for one token, the tiled matmul for a batch). I2_S
    // (BitNet b1.58) multiplies the per-token int8 quantization of x, as its fork does: into s.xq first,
    // unless x_int8 says that the norm producing x did it already (int8_input).
    void linear(const DevLinear& l, VulkanRef x, uint32_t n, VulkanRef y, VulkanSessionState& s, bool x_int8 = false) {
        const VulkanRef w(*l.buf, l.off);
        if (!x_int8) x = quantized_input(l, x, n, s);
        if (n == 1) vk.matvec(l.type, w, l.n_in, l.n_out, x, y);
        else vk.matmul(l.type, w, l.n_in, l.n_out, x, n, y);
        if (l.has_scale) vk.scale(y, y, n * l.n_out, l.scale);
    }

    // x += scale · W·in: for one token without a scale the add is fused into the matvec (one dispatch).
    void residual_linear(const DevLinear& l, VulkanRef in, uint32_t n, VulkanSessionState& s, VulkanRef x,
                         bool in_int8 = false) {
        if (n == 1 && !l.has_scale) {
            vk.matvec(l.type, VulkanRef(*l.buf, l.off), l.n_in, l.n_out, in_int8 ? in : quantized_input(l, in, n, s), x, true);
            return;
        }
        linear(l, in, n, s.tmp, s, in_int8);
        vk.add(x, s.tmp, x, n * l.n_out);
    }

    // Whether the norm before these projections should also quantize its output (rms_norm's
    // quantize_i8): all of them are I2_S.
    static bool int8_input(std::initializer_list<const DevLinear*> ls) {
        for (const DevLinear* l : ls)
            if (l->type != TensorType::I2_S) return false;
        return true;
    }

    // The input an I2_S projection multiplies: x quantized per token into s.xq; x itself otherwise.
    VulkanRef quantized_input(const DevLinear& l, VulkanRef x, uint32_t n, VulkanSessionState& s) {
        if (l.type != TensorType::I2_S) return x;
        vk.quantize_i8(x, s.xq, l.n_in, n);
        return s.xq;
    }

    // Input transform "rms_norm with the norm vector at float offset off" for matvec_fused.
    VulkanMatvecInput norm_input(uint32_t off) const {
        VulkanMatvecInput in;
        in.rms_norm = true;
        in.norm = at(norms, off);
        in.eps = hp.rms_eps;
        return in;
    }

    // The rounded vectors of a decode step in s.xr (VulkanMatvecRounding): the residual stream (for the
    // next norm-fused matvec) and the SwiGLU output (for the down projection), the second where the first
    // ends; End: the buffer's size.
    enum class RoundedSlot { Residual, Swiglu, End };
    uint64_t rounded_at(RoundedSlot slot) const {
        auto bytes = [](int64_t n) { return VulkanBackend::rounded_bytes(static_cast<uint32_t>((n + 31) / 32 * 32)); };
        const uint64_t widths[2] = {bytes(hp.n_embd), bytes(hp.n_ff)};
        uint64_t at = 0;
        for (int i = 0; i < static_cast<int>(slot); ++i) at += widths[i];
        return at;
    }

    void ensure_scratch(VulkanSessionState& s, int64_t n);
    // Records layer il. x_rounded: s.xr holds the residual stream rounded for this layer's q|k|v matvec
    // (by the previous layer's down projection). Returns whether s.xr now holds it rounded for the next
    // consumer (the next layer's q|k|v, or the LM head after the last layer).
    // x_pending: s.tmp holds the previous projection's output, not yet added to the residual stream s.x
    // (a prompt adds it inside the next norm's dispatch, add_rms_norm); record_layer consumes and sets it.
    bool record_layer(VulkanSessionState& s, size_t il, uint32_t n, uint32_t pos0, bool x_rounded, bool& x_pending);
    // A prompt layer whose residual adds ride in the next norm's dispatch (add_rms_norm) and whose
    // matmuls take f16 activations from their producers where the tensor-core tiles read f16.
    bool prompt_norms_fused(const DevLayer& l, uint32_t n) const;
    // Whether the one-token q|k|v of layer il runs as one norm-fused matvec.
    bool qkv_fused_matvec(size_t il) const {
        const DevLayer& l = layers[il];
        return l.qkv_fused && vk.fused_matvec_ok(l.wq.type, VulkanRef(*l.wq.buf, l.wq.off));
    }
    // Whether the one-token LM head runs as one norm-fused matvec.
    bool head_fused_matvec() const { return !output.has_scale && vk.fused_matvec_ok(output.type, VulkanRef(*output.buf, output.off)); }
    // The rounding of a residual-stream write by `producer` for the norm-fused matvec that reads it next
    // (type `ct`, weights at `cw`, consumer_rows outputs; its norm weights at float `norm_off` of `norms`),
    // or nullopt where it does not apply (see VulkanMatvecRounding, VulkanBackend::rounding_ok).
    std::optional<VulkanMatvecRounding> rounding_for(const DevLinear& producer, VulkanSessionState& s, TensorType ct,
                                                     VulkanRef cw, uint32_t consumer_rows, uint32_t norm_off) const {
        // Not for TQ1_0: on an H100 the 8B TQ1_0 decode measured 193-194 against 203 tok/s with it (its
        // pairs of matvecs alone gained as the other types' did; Q2_0 gained 10 %, TQ2_0 2-7 %).
        if (!rounded_inputs || producer.has_scale || producer.type == TensorType::TQ1_0 || ct == TensorType::TQ1_0 ||
            !vk.rounding_ok(producer.type, VulkanRef(*producer.buf, producer.off), producer.n_in, producer.n_out, ct, cw,
                            consumer_rows))
            return std::nullopt;
        VulkanMatvecRounding r;
        r.out = VulkanRef(s.xr, 0);
        r.norm = at(norms, norm_off);
        r.consumer = ct;
        return r;
    }
};

VulkanModel::VulkanModel() = default;
VulkanModel::~VulkanModel() = default;

std::unique_ptr<VulkanModel> VulkanModel::create(const HParams& hp, const Weights& w, const gguf::GgufFile& file) {
    // Unsupported features first: no device work wasted on a model that cannot run.
    if (hp.head_dim_v != hp.head_dim) throw Error("key and value head sizes differ");
    if (hp.head_dim > 512 || hp.head_dim % 2 != 0) throw Error("head size must be even and at most 512");
    if (hp.n_rot % 2 != 0 || hp.n_rot > hp.head_dim) throw Error("unsupported rotary dimension count");
    if (!w.tok_embd) throw Error("no token embeddings");

    std::unique_ptr<VulkanModel> m(new VulkanModel());
    m->impl_ = std::make_unique<Impl>();
    Impl& im = *m->impl_;
    im.hp = hp;
    im.attn_split = attention_split_from_env();
    if (const char* e = std::getenv("BONSAI_VULKAN_FUSED_ATTENTION")) im.fused_attention = std::string(e) != "0";
    if (const char* e = std::getenv("BONSAI_VULKAN_PROMPT_QKV")) im.fused_prompt_qkv = std::string(e) != "0";
    if (const char* e = std::getenv("BONSAI_VULKAN_TRACE")) im.trace = std::string(e) == "1";
    if (const char* e = std::getenv("BONSAI_VULKAN_ROUNDED_INPUTS"); e && *e) {
        const std::string v(e);
        if (v != "0" && v != "1" && v != "2") throw Error("BONSAI_VULKAN_ROUNDED_INPUTS must be 0, 1 or 2");
        im.rounded_inputs = v[0] - '0';
    }
    if (const char* e = std::getenv("BONSAI_VULKAN_FLUSH_LAYERS"); e && *e) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(e, &end, 10);
        if (*end != '\0' || v > 1000) throw Error("BONSAI_VULKAN_FLUSH_LAYERS must be a number of layers (0..1000)");
        im.flush_layers = v;
    }
    im.w = &w;
    im.file = &file;
    to_u32(hp.n_vocab, "vocabulary size");
    im.layers.resize(w.layers.size());
    for (size_t il = 0; il < w.layers.size(); ++il) {
        const LayerWeights& l = w.layers[il];
        DevLayer& d = im.layers[il];
        d.attn_norm = im.add_norm(l.attn_norm);
        d.q_norm = im.add_norm(l.q_norm);
        d.k_norm = im.add_norm(l.k_norm);
        d.attn_sub_norm = im.add_norm(l.attn_sub_norm);
        d.ffn_norm = im.add_norm(l.ffn_norm);
        d.ffn_sub_norm = im.add_norm(l.ffn_sub_norm);
        d.qkv_fused = im.upload_group({{&l.wq, &d.wq}, {&l.wk, &d.wk}, {&l.wv, &d.wv}});
        im.upload_group({{&l.wo, &d.wo}});
        d.gu_fused = im.upload_group({{&l.gate, &d.gate}, {&l.up, &d.up}});
        im.upload_group({{&l.down, &d.down}});
    }
    im.output_norm = im.add_norm(w.output_norm);
    im.rope_freqs = im.add_norm(w.rope_freqs);
    im.upload_group({{&w.output, &im.output}});
    im.norms = im.vk.create_buffer(im.norm_host.size() * 4, VulkanMemory::DeviceLocal);
    im.vk.upload(im.norms, 0, im.norm_host.data(), im.norm_host.size() * 4);
    return m;
}

std::string VulkanModel::device_description() const {
    return impl_->vk.device().name + " (" + impl_->vk.device().type + ")";
}

std::unique_ptr<VulkanSessionState> VulkanModel::new_session(int64_t n_ctx) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    Impl& im = *impl_;
    const int64_t kd = im.hp.n_head_kv * im.hp.head_dim;
    if (n_ctx <= 0 || n_ctx > std::numeric_limits<int32_t>::max() / std::max<int64_t>(kd, 1))
        throw Error("Vulkan: invalid context size");
    auto s = std::make_unique<VulkanSessionState>();
    s->n_ctx = n_ctx;
    const size_t bytes = static_cast<size_t>(n_ctx * kd) * 2;
    for (size_t il = 0; il < im.layers.size(); ++il) {
        s->k.push_back(im.vk.create_buffer(bytes, VulkanMemory::DeviceLocal));
        s->v.push_back(im.vk.create_buffer(bytes, VulkanMemory::DeviceLocal));
    }
    // Splits the scratch holds: what a fixed split length needs, or (auto) what the longest split
    // gives at n_ctx, and enough for k_attention_wgs workgroups at the shortest split.
    const int64_t fixed = im.attn_split == k_split_auto ? k_attention_split : im.attn_split;
    int64_t splits = fixed ? (n_ctx + fixed - 1) / fixed : 1;
    if (im.attn_split == k_split_auto) splits = std::max<int64_t>(splits, k_attention_wgs / std::max<int64_t>(im.hp.n_head, 1) + 2);
    s->att_splits = splits;
    s->att_scratch = im.vk.create_buffer(static_cast<size_t>(im.hp.n_head * splits * (im.hp.head_dim + 2)) * 4,
                                         VulkanMemory::DeviceLocal);
    return s;
}

void VulkanModel::Impl::ensure_scratch(VulkanSessionState& s, int64_t n) {
    const int64_t E = hp.n_embd, QD = hp.n_head * hp.head_dim, KD = hp.n_head_kv * hp.head_dim, F = hp.n_ff,
                  V = hp.n_vocab;
    if (n > s.cap) {
        auto f32 = [&](int64_t count, VulkanMemory mem) {
            return vk.create_buffer(static_cast<size_t>(n * count) * 4, mem);
        };
        const VulkanMemory dl = VulkanMemory::DeviceLocal;
        s.in = f32(E, VulkanMemory::HostVisible);
        s.pos = f32(1, VulkanMemory::HostVisible);
        s.x = f32(E, dl);
        s.xn = f32(E, dl);
        s.q = f32(QD + 2 * KD, dl);  // q, then k, then v of all tokens (see record_layer)
        s.att = f32(QD, dl);
        s.tmp = f32(E, dl);
        s.g = vk.create_buffer(static_cast<size_t>(n * F + F) * 4, dl);  // + room for up of a fused step
        s.u = f32(F, dl);
        s.xq = f32(std::max({E, QD, F}), dl);
        s.xr = vk.create_buffer(static_cast<size_t>(rounded_at(RoundedSlot::End)), dl);
        if (vk.uses_coop_matmul()) s.xh = vk.create_buffer(static_cast<size_t>(n * std::max(E, F)) * 2, dl);  // (f16 tiles only)
        s.cap = n;
    }
    const int64_t want = std::clamp<int64_t>(static_cast<int64_t>(k_logits_bytes / (static_cast<uint64_t>(V) * 4)), 1, n);
    if (want > s.logits_cap) {
        s.logits = vk.create_buffer(static_cast<size_t>(want * V) * 4, VulkanMemory::HostVisible);
        s.logits_dev = vk.create_buffer(static_cast<size_t>(want * V) * 4, VulkanMemory::DeviceLocal);
        s.logits_cap = want;
    }
}

bool VulkanModel::Impl::prompt_norms_fused(const DevLayer& l, uint32_t n) const {
    auto plain = [](const DevLinear& d) { return !d.has_scale && d.type != TensorType::I2_S; };
    auto even = [](uint64_t float_index) { return float_index % 2 == 0; };  // add_rms_norm reads float pairs
    return n > 1 && l.qkv_fused && fused_prompt_qkv && plain(l.wq) && plain(l.wo) && plain(l.gate) && plain(l.up) &&
           plain(l.down) && l.attn_sub_norm == k_none && l.ffn_sub_norm == k_none && hp.n_embd % 2 == 0 &&
           hp.n_ff % 2 == 0 && even(l.attn_norm) && even(l.ffn_norm);
}

bool VulkanModel::Impl::record_layer(VulkanSessionState& s, size_t il, uint32_t n, uint32_t pos0, bool x_rounded,
                                     bool& x_pending) {
    const DevLayer& l = layers[il];
    const bool fused_norms = prompt_norms_fused(l, n);
    const uint32_t E = static_cast<uint32_t>(hp.n_embd), D = static_cast<uint32_t>(hp.head_dim),
                   H = static_cast<uint32_t>(hp.n_head), KVH = static_cast<uint32_t>(hp.n_head_kv),
                   QD = H * D, KD = KVH * D, F = static_cast<uint32_t>(hp.n_ff);
    const float eps = hp.rms_eps;
    const RopeStyle style = hp.rope_type == RopeType::Neox ? RopeStyle::Neox : RopeStyle::Norm;
    const uint32_t n_rot = static_cast<uint32_t>(hp.n_rot);

    // Attention half.
    if (x_pending && !fused_norms) {  // the previous layer's down projection (fused_norms adds it in the norm)
        vk.add(s.x, s.tmp, s.x, n * E);
        x_pending = false;
    }
    // q, k and v of all n tokens live in s.q: [n][QD], then [n][KD] k, then [n][KD] v. For one token
    // with fused weights (q|k|v rows back to back in one buffer) that is exactly one matvec's output,
    // and for the low-bit types that matvec also applies attn_norm to its input (no rms_norm dispatch).
    VulkanRef q = s.q, k = at(s.q, uint64_t(n) * QD), v = at(s.q, uint64_t(n) * (QD + KD));
    const VulkanRef qkv_w(*l.wq.buf, l.wq.off);
    // A prompt with fused q|k|v weights: one matmul (rows of q, k and v of a token side by side in s.q,
    // QD + 2 * KD floats per token); qkv_post then packs q into s.xq (free: no I2_S input here) for the
    // attention. On an H100-class GPU the k and v matmuls alone (1024 rows) left most of it idle.
    uint32_t qkv_token_stride = 0;
    VulkanRef q_att = q;  // the attention's q: where qkv_post leaves it
    if (n == 1 && qkv_fused_matvec(il)) {
        VulkanMatvecInput in = norm_input(l.attn_norm);
        in.rounded = x_rounded;
        in.rounded_in = VulkanRef(s.xr, 0);
        vk.matvec_fused(l.wq.type, qkv_w, E, QD + 2 * KD, s.x, s.q, in);
    } else if (n == 1 && l.qkv_fused) {
        vk.rms_norm(s.x, at(norms, l.attn_norm), s.xn, E, n, eps);
        vk.matvec(l.wq.type, qkv_w, E, QD + 2 * KD, s.xn, s.q);
    } else if (fused_norms) {
        // The previous layer's down projection is added to x inside this norm; its output is f16 where
        // the q|k|v tiles read f16.
        const bool f16 = vk.matmul_reads_f16(l.wq.type, E, QD + 2 * KD, n);
        const VulkanRef in = f16 ? VulkanRef(s.xh, 0) : VulkanRef(s.xn, 0), tmp(s.tmp, 0);
        vk.add_rms_norm(s.x, x_pending ? &tmp : nullptr, at(norms, l.attn_norm), in, E, n, eps, f16);
        x_pending = false;
        vk.matmul(l.wq.type, qkv_w, E, QD + 2 * KD, in, n, s.q, f16);
        k = at(s.q, QD);
        v = at(s.q, QD + KD);
        qkv_token_stride = QD + 2 * KD;
        q_att = s.xq;
    } else if (l.qkv_fused && fused_prompt_qkv && l.wq.type != TensorType::I2_S) {
        vk.rms_norm(s.x, at(norms, l.attn_norm), s.xn, E, n, eps);
        vk.matmul(l.wq.type, qkv_w, E, QD + 2 * KD, s.xn, n, s.q);
        k = at(s.q, QD);
        v = at(s.q, QD + KD);
        qkv_token_stride = QD + 2 * KD;
        q_att = s.xq;
    } else {
        const bool q8 = int8_input({&l.wq, &l.wk, &l.wv});  // BitNet b1.58: quantized once, by the norm
        vk.rms_norm(s.x, at(norms, l.attn_norm), s.xn, E, n, eps, q8);
        linear(l.wq, s.xn, n, q, s, q8);
        linear(l.wk, s.xn, n, k, s, q8);
        linear(l.wv, s.xn, n, v, s, q8);
    }
    // QK-norm (qwen3), RoPE and the f16 KV-cache stores in one dispatch.
    const uint64_t kv_byte = uint64_t(pos0) * KD * 2;
    VulkanQkvPost qp;
    qp.head_dim = D;
    qp.n_head = H;
    qp.n_kv_head = KVH;
    qp.n_tokens = n;
    qp.n_rot = n_rot;
    qp.freq_base = hp.rope_freq_base;
    qp.style = style;
    qp.q_norm = l.q_norm != k_none;
    qp.k_norm = l.k_norm != k_none;
    qp.freq_scale = hp.rope_freq_scale;
    qp.use_freq_factors = rope_freqs != k_none;
    if (qp.use_freq_factors) qp.freq_factors = at(norms, rope_freqs);
    qp.eps = eps;
    if (qkv_token_stride) {
        qp.token_stride = qkv_token_stride;
        qp.q_out = q_att;
    }
    VulkanAttention a;
    a.head_dim = D;
    a.n_head = H;
    a.n_kv_head = KVH;
    a.n_kv = pos0 + n;
    a.k_pos_stride = a.v_pos_stride = KD;
    a.k_head_stride = a.v_head_stride = D;
    a.scale = 1.0f / std::sqrt(static_cast<float>(D));
    a.n_tokens = n;
    a.round_q_f16 = true;  // llama.cpp rounds Q to F16 against the F16 cache (fixtures README)
    a.split_len = attention_split_len(attn_split, a.n_kv, H, s.att_splits);  // decode: split-KV
    a.scratch = s.att_scratch;
    const VulkanRef qn = at(norms, qp.q_norm ? l.q_norm : 0), kn = at(norms, qp.k_norm ? l.k_norm : 0);
    if (n == 1 && fused_attention) {  // decode: qkv_post inside the attention dispatch
        vk.attention_decode(q, k, v, qn, kn, static_cast<int32_t>(pos0), s.k[il], s.v[il], s.att, qp, a);
    } else {
        vk.qkv_post(q, k, v, qn, kn, s.pos, VulkanRef(s.k[il], kv_byte), VulkanRef(s.v[il], kv_byte), qp);
        vk.attention(q_att, s.k[il], s.v[il], s.att, a);
    }
    // FFN half. One token, fused gate|up whose matvec takes input transforms (the low-bit types; Q8_0 /
    // Q4_0 with integer dot products): ffn_norm inside the gate|up matvec and
    // SwiGLU inside the down matvec (3 dispatches fewer).
    const VulkanRef gu_w(*l.gate.buf, l.gate.off);
    const bool relu2 = hp.ffn_act == FfnActivation::ReluSquared;  // BitNet b1.58 (else SwiGLU)
    const VulkanRef down_w(*l.down.buf, l.down.off);
    const bool ffn_fused = n == 1 && l.gu_fused && vk.fused_matvec_ok(l.gate.type, gu_w) && l.ffn_sub_norm == k_none &&
                           vk.fused_matvec_ok(l.down.type, down_w) && !l.down.has_scale && !relu2;

    const bool o8 = l.attn_sub_norm != k_none && int8_input({&l.wo});
    if (l.attn_sub_norm != k_none) vk.rms_norm(s.att, at(norms, l.attn_sub_norm), s.att, QD, n, eps, o8);
    // One token: the output projection rounds the residual stream for the fused gate|up matvec.
    const auto o_round = ffn_fused && l.attn_sub_norm == k_none ? rounding_for(l.wo, s, l.gate.type, gu_w, 2 * F, l.ffn_norm)
                                                                : std::nullopt;
    if (o_round) {
        vk.matvec_fused(l.wo.type, VulkanRef(*l.wo.buf, l.wo.off), QD, E, s.att, s.x, VulkanMatvecInput{}, true, &*o_round);
    } else if (fused_norms) {
        // The output projection's rows are added to x inside the FFN norm; gate, up and down take f16
        // inputs from the norm and the SwiGLU where their tiles read f16.
        vk.matmul(l.wo.type, VulkanRef(*l.wo.buf, l.wo.off), QD, E, s.att, n, s.tmp);
        const bool gu16 = vk.matmul_reads_f16(l.gate.type, E, F, n) && vk.matmul_reads_f16(l.up.type, E, F, n);
        const VulkanRef in = gu16 ? VulkanRef(s.xh, 0) : VulkanRef(s.xn, 0), tmp(s.tmp, 0);
        vk.add_rms_norm(s.x, &tmp, at(norms, l.ffn_norm), in, E, n, eps, gu16);
        vk.matmul(l.gate.type, VulkanRef(*l.gate.buf, l.gate.off), E, F, in, n, s.g, gu16);
        vk.matmul(l.up.type, VulkanRef(*l.up.buf, l.up.off), E, F, in, n, s.u, gu16);
        const bool d16 = vk.matmul_reads_f16(l.down.type, F, E, n);
        const VulkanRef act = d16 ? VulkanRef(s.xh, 0) : VulkanRef(s.g, 0);
        vk.swiglu(s.g, s.u, act, n * F, relu2, d16);
        vk.matmul(l.down.type, down_w, F, E, act, n, s.tmp, d16);
        x_pending = true;
        return false;
    } else {
        residual_linear(l.wo, s.att, n, s, s.x, o8);
    }

    if (ffn_fused) {
        VulkanMatvecInput in = norm_input(l.ffn_norm);
        in.rounded = o_round.has_value();
        in.rounded_in = VulkanRef(s.xr, 0);
        // With a rounded input, gate|up runs the q|k|v matvec's shader module where that has 4 or more rows
        // per team (the 8B shapes): on an H100 a step that switches between fewer pipelines is faster,
        // 8B Q1_0 tg128 362 / 365 -> 374 / 373 tok/s (Q2_0 343-349 either way), though gate|up alone
        // prefers 8 rows per team.
        if (in.rounded && qkv_fused_matvec(il)) {
            const uint32_t qkv_rows = VulkanBackend::matvec_dp_rows_per_team(E, QD + 2 * KD);
            if (qkv_rows >= 4) in.rows_per_team = qkv_rows;
        }
        // A gate|up matvec that reads a rounded input rounds silu(gate) * up for the down projection.
        const VulkanRef sw_at(s.xr, rounded_at(RoundedSlot::Swiglu));
        std::optional<VulkanMatvecRounding> gu_round;
        if (in.rounded && rounded_inputs >= 2 && l.down.type != TensorType::TQ1_0 && (2 * F) % 64 == 0 &&
            vk.rounded_output_ok(l.gate.type, gu_w, E, 2 * F) && vk.rounded_input_ok(l.down.type, down_w, F, E, false)) {
            gu_round.emplace();
            gu_round->out = sw_at;
            gu_round->consumer = l.down.type;
            gu_round->swiglu = true;
        }
        vk.matvec_fused(l.gate.type, gu_w, E, 2 * F, s.x, s.g, in, false, gu_round ? &*gu_round : nullptr);
        VulkanMatvecInput sw;
        sw.swiglu = true;
        sw.rounded = gu_round.has_value();
        sw.rounded_in = sw_at;
        // ... and the down projection rounds it for the next layer's q|k|v matvec or the LM head.
        std::optional<VulkanMatvecRounding> d_round;
        if (il + 1 < layers.size() && qkv_fused_matvec(il + 1)) {
            const DevLayer& nl = layers[il + 1];
            d_round = rounding_for(l.down, s, nl.wq.type, VulkanRef(*nl.wq.buf, nl.wq.off), QD + 2 * KD, nl.attn_norm);
        } else if (il + 1 == layers.size() && head_fused_matvec()) {
            d_round = rounding_for(l.down, s, output.type, VulkanRef(*output.buf, output.off), output.n_out, output_norm);
        }
        vk.matvec_fused(l.down.type, down_w, F, E, s.g, s.x, sw, true, d_round ? &*d_round : nullptr);
        return d_round.has_value();
    }
    const bool gu8 = int8_input({&l.gate, &l.up});  // (I2_S projections are never fused: gu_fused is false)
    vk.rms_norm(s.x, at(norms, l.ffn_norm), s.xn, E, n, eps, gu8);
    if (n == 1 && l.gu_fused) {  // gate|up in one matvec, up lands right after gate in s.g
        vk.matvec(l.gate.type, gu_w, E, 2 * F, s.xn, s.g);
        vk.swiglu(s.g, at(s.g, F), s.g, F, relu2);
    } else {
        linear(l.gate, s.xn, n, s.g, s, gu8);
        linear(l.up, s.xn, n, s.u, s, gu8);
        vk.swiglu(s.g, s.u, s.g, n * F, relu2);
    }
    const bool d8 = l.ffn_sub_norm != k_none && int8_input({&l.down});
    if (l.ffn_sub_norm != k_none) vk.rms_norm(s.g, at(norms, l.ffn_sub_norm), s.g, F, n, eps, d8);
    residual_linear(l.down, s.g, n, s, s.x, d8);
    return false;
}

void VulkanModel::forward(const int32_t* tokens, int64_t n, int64_t pos0, VulkanSessionState& s, ForwardState& st,
                          bool all_logits, cpu::ThreadPool* pool) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    Impl& im = *impl_;
    const HParams& hp = im.hp;
    if (n <= 0) throw Error("forward: no tokens");
    if (pos0 < 0 || pos0 + n > s.n_ctx) throw Error("forward: positions exceed the context window");
    const int64_t E = hp.n_embd, V = hp.n_vocab;
    using TraceClock = std::chrono::steady_clock;
    const TraceClock::time_point t_start = TraceClock::now();
    TraceClock::time_point t_embedded, t_recorded;
    auto trace = [&](const char* path) {
        if (!im.trace) return;
        const TraceClock::time_point t_end = TraceClock::now();
        auto ms = [](TraceClock::time_point a, TraceClock::time_point b) {
            return std::chrono::duration<double, std::milli>(b - a).count();
        };
        std::fprintf(stderr, "bonsai vulkan forward (%s): %lld tokens, %.3f ms: scratch + embedding rows %.3f, recording %.3f, "
                     "waiting for the GPU %.3f\n",
                     path, static_cast<long long>(n), ms(t_start, t_end), ms(t_start, t_embedded), ms(t_embedded, t_recorded),
                     ms(t_recorded, t_end));
    };
    im.ensure_scratch(s, n);

    // Token embeddings on the CPU (a few rows of the mapped file), positions for RoPE.
    const gguf::TensorInfo& te = *im.w->tok_embd;
    const size_t row_bytes = row_nbytes(te.type, E);
    float* in = static_cast<float*>(s.in.data());
    int32_t* pos = static_cast<int32_t*>(s.pos.data());
    for (int64_t t = 0; t < n; ++t) {
        const int32_t id = tokens[t];
        if (id < 0 || id >= V)
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(V - 1) + ")");
        pos[t] = static_cast<int32_t>(pos0 + t);
    }
    // The rows of a prompt on the CPU threads (an 8B pp512's 512 x 4096 values took the H200 machine's
    // CPU ~1.5 ms on one thread, before the GPU can start).
    auto embed = [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t)
            dequantize(te.type, te.data + row_bytes * static_cast<size_t>(tokens[t]), in + t * E, E);
    };
    if (pool && pool->size() > 1 && n >= 16) pool->parallel_for(n, embed, 8);  // (the fixture prompts take this path too)
    else embed(0, n);

    t_embedded = TraceClock::now();
    const int64_t rows = all_logits ? n : 1;
    st.logits.resize(static_cast<size_t>(rows * V));
    st.logits_rows = rows;
    const uint32_t un = static_cast<uint32_t>(n), uE = static_cast<uint32_t>(E);
    // Rows of the final norm output (s.xn) whose logits are wanted start here.
    const uint64_t first_row = static_cast<uint64_t>(n - rows) * uE;
    im.vk.begin();
    try {
        im.vk.scale(s.in, s.x, un * uE, 1.0f);  // host-visible input -> device-local residual stream
        bool x_rounded = false;  // s.xr holds x rounded for the next norm-fused matvec (record_layer)
        bool x_pending = false;  // s.tmp still to be added to s.x (record_layer)
        for (size_t il = 0; il < im.layers.size(); ++il) {
            x_rounded = im.record_layer(s, il, un, static_cast<uint32_t>(pos0), x_rounded, x_pending);
            // Hand finished layers to the GPU while the rest is recorded (recording a decode step took
            // ~0.3 ms of host time on the H100 machine): after the first layer, then every 8 (H100: 8 B
            // Q1_0 decode 302 -> 321 tok/s; every 2 or 4 layers gained less).
            const size_t fl = im.flush_layers;
            if (fl && il + 1 < im.layers.size() && (il == 0 || (il + 1) % fl == 0)) im.vk.flush();
        }
        // One row of an LM head whose matvec takes input transforms: output_norm inside its matvec (one
        // dispatch fewer per token).
        const VulkanRef head_w(*im.output.buf, im.output.off);
        const bool fused_head = rows == 1 && im.head_fused_matvec();
        // The last layer's down projection, not yet added: only the rows whose logits are wanted need it
        // (the residual stream is not read again), inside the output norm where it can be.
        const bool pending_in_norm = x_pending && !fused_head && uE % 2 == 0 && im.output_norm % 2 == 0;
        if (x_pending && !pending_in_norm)
            im.vk.add(at(s.x, first_row), at(s.tmp, first_row), at(s.x, first_row), static_cast<uint32_t>(rows) * uE);
        if (fused_head) {
            VulkanMatvecInput in = im.norm_input(im.output_norm);
            in.rounded = x_rounded;  // (only ever set for one token: then first_row is 0)
            in.rounded_in = VulkanRef(s.xr, 0);
            im.vk.matvec_fused(im.output.type, head_w, uE, im.output.n_out, at(s.x, first_row), s.logits_dev, in);
            im.vk.copy(s.logits_dev, s.logits, static_cast<uint64_t>(V) * 4);
            t_recorded = TraceClock::now();
            im.vk.submit_and_wait();
            std::memcpy(st.logits.data(), s.logits.data(), static_cast<size_t>(V) * 4);
            trace("one logits row, fused LM head");
            return;
        }
        if (pending_in_norm) {
            const VulkanRef tmp = at(s.tmp, first_row);
            im.vk.add_rms_norm(at(s.x, first_row), &tmp, at(im.norms, im.output_norm), s.xn, uE,
                               static_cast<uint32_t>(rows), hp.rms_eps, false);
        } else {
            im.vk.rms_norm(at(s.x, first_row), at(im.norms, im.output_norm), s.xn, uE, static_cast<uint32_t>(rows),
                           hp.rms_eps);
        }
        // LM head in chunks of logits_cap rows, the first one in the same submit as the layers.
        for (int64_t r0 = 0; r0 < rows; r0 += s.logits_cap) {
            const int64_t cnt = std::min(s.logits_cap, rows - r0);
            if (r0 > 0) im.vk.begin();
            im.linear(im.output, at(s.xn, static_cast<uint64_t>(r0) * uE), static_cast<uint32_t>(cnt), s.logits_dev, s);
            im.vk.copy(s.logits_dev, s.logits, static_cast<uint64_t>(cnt * V) * 4);
            if (r0 == 0) t_recorded = TraceClock::now();
            im.vk.submit_and_wait();
            std::memcpy(st.logits.data() + r0 * V, s.logits.data(), static_cast<size_t>(cnt * V) * 4);
        }
        trace("LM head matmul");
    } catch (...) {
        // Close an open recording so that the next forward can begin (the partial work is harmless).
        try {
            im.vk.submit_and_wait();
        } catch (...) {
        }
        throw;
    }
}

}  // namespace bonsai::model_detail
