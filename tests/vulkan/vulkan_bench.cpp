// bonsai-vulkan-bench: throughput of the Vulkan forward pass on a synthetic model with real shapes
// (random weights; speed does not depend on the values), and the device's copy bandwidth for the
// roofline. Plain C++ (no Qt), so that it can run on a machine that has only a Vulkan driver.
//
//   bonsai-vulkan-bench model PRESET TYPE FILE [PP] [TG]   PRESET: bonsai-1.7b | bonsai-8b; TYPE: Q1_0 ...
//       writes FILE (a qwen3 model of that preset), then prints prompt (PP tokens, one batch) and
//       decode (TG single-token steps) tokens per second, like llama-bench's pp512 / tg128.
//   bonsai-vulkan-bench bandwidth [MiB]
//       GB/s of y = 1 * x over two device-local buffers (read + write bytes per second).
//   bonsai-vulkan-bench ops TYPE
//       time per dispatch of tiny ops (fixed cost per op), and of matvecs of the 1.7B and 8B shapes
//       (BONSAI_BENCH_NO_MATMUL=1: matvecs only). BONSAI_BENCH_NO_CPU=1 skips the model's CPU comparison.
//   bonsai-vulkan-bench compare FILE [PROMPT_TOKENS]
//       FILE's logits on Vulkan against the CPU backend: an 8-token prompt and 8 decode steps.
//   bonsai-vulkan-bench matmulcheck TYPE
//       matmul of random weights and inputs against a float64 reference (bonsai::dequantize): max |error|
//       relative to sum |w x| per output. Checks the tensor-core shader on devices that have it (the CI
//       device, lavapipe, has not); BONSAI_VULKAN_COOP_MATMUL=0 checks the f32 shader. Exit 1 when the
//       error exceeds 4e-3 * sum |w x| (f16 inputs: 2^-11 relative rounding per product).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "bonsai/gguf.h"
#include "bonsai/model.h"
#include "bonsai/session.h"
#include "bonsai/tensor_type.h"
#include "bonsai/vulkan_backend.h"

using namespace bonsai;

namespace {

using Clock = std::chrono::steady_clock;
double secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

struct Preset {
    const char* name;
    int64_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab;
    bool tied;
};
const Preset kPresets[] = {
    {"bonsai-1.7b", 2048, 28, 16, 8, 128, 6144, 151936, true},
    {"bonsai-8b", 4096, 36, 32, 8, 128, 12288, 151936, false},
};

bool env_is(const char* name, const char* value) {
    const char* v = std::getenv(name);
    return v && std::string(v) == value;
}

// Random blocks with a sane fp16 scale (random scale bytes could be inf/NaN).
std::vector<uint8_t> random_weight(TensorType t, int64_t n_in, int64_t n_out, std::mt19937_64& rng) {
    const size_t bytes = row_nbytes(t, n_in) * static_cast<size_t>(n_out);
    std::vector<uint8_t> d(bytes);
    for (size_t i = 0; i + 8 <= bytes; i += 8) {
        const uint64_t r = rng();
        std::memcpy(d.data() + i, &r, 8);
    }
    auto ternary_codes = [&] {  // every 2-bit code 0..2 (3 is unused), as in real ternary weights
        for (uint8_t& b : d) {
            uint8_t v = 0;
            for (int k = 0; k < 4; ++k) v = static_cast<uint8_t>(v | (rng() % 3) << (2 * k));
            b = v;
        }
    };
    if (t == TensorType::I2_S) {  // ternary codes, then the per-tensor float32 scale
        ternary_codes();
        const float scale = 0.02f;
        d.resize(bytes + 32);
        std::memcpy(d.data() + bytes, &scale, 4);
        return d;
    }
    // BONSAI_BENCH_TERNARY=1: 2-bit codes 0..2 only (as real ternary weights), not 0..3.
    if ((t == TensorType::TQ2_0 || t == TensorType::Q2_0 || t == TensorType::PQ2_0) && env_is("BONSAI_BENCH_TERNARY", "1"))
        ternary_codes();
    const size_t blk = tensor_type_traits(t).block_bytes;
    size_t scale_at = 0;
    if (t == TensorType::TQ2_0) scale_at = 64;
    else if (t == TensorType::TQ1_0) scale_at = 52;
    else if (t == TensorType::PTQ1_0) scale_at = 26;
    else if (t == TensorType::Q6_K) scale_at = 208;
    if (t == TensorType::Q4_K) {  // dmin, the block's second fp16
        const uint16_t m = fp32_to_fp16(0.01f);
        for (size_t b = 0; b + blk <= bytes; b += blk) std::memcpy(d.data() + b + 2, &m, 2);
    }
    if (t == TensorType::F32) {  // random bytes would hold NaN and infinities: small values instead
        std::uniform_real_distribution<float> u(-0.05f, 0.05f);
        for (size_t b = 0; b + 4 <= bytes; b += 4) {
            const float v = u(rng);
            std::memcpy(d.data() + b, &v, 4);
        }
        return d;
    }
    const uint16_t h = fp32_to_fp16(0.02f);
    for (size_t b = 0; b + blk <= bytes; b += blk) std::memcpy(d.data() + b + scale_at, &h, 2);
    return d;
}

bool file_exists(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f) std::fclose(f);
    return f != nullptr;
}

std::vector<uint8_t> ones(int64_t n) {
    std::vector<float> v(static_cast<size_t>(n), 1.0f);
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

void write_model(const Preset& p, TensorType t, const std::string& path) {
    std::mt19937_64 rng(42);
    gguf::GgufWriter w;
    const std::string a = "qwen3.";
    w.set_string("general.architecture", "qwen3");
    w.set_bool("general.synthetic", true);
    w.set_u32(a + "context_length", 32768);
    w.set_u32(a + "embedding_length", static_cast<uint32_t>(p.n_embd));
    w.set_u32(a + "block_count", static_cast<uint32_t>(p.n_layer));
    w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(p.n_ff));
    w.set_u32(a + "attention.head_count", static_cast<uint32_t>(p.n_head));
    w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(p.n_head_kv));
    w.set_u32(a + "attention.key_length", static_cast<uint32_t>(p.head_dim));
    w.set_u32(a + "attention.value_length", static_cast<uint32_t>(p.head_dim));
    w.set_f32(a + "rope.freq_base", 1e6f);
    w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
    const int64_t E = p.n_embd, QD = p.n_head * p.head_dim, KD = p.n_head_kv * p.head_dim, F = p.n_ff;
    w.add_tensor("token_embd.weight", t, {E, p.n_vocab}, random_weight(t, E, p.n_vocab, rng));
    w.add_tensor("output_norm.weight", TensorType::F32, {E}, ones(E));
    if (!p.tied) w.add_tensor("output.weight", t, {E, p.n_vocab}, random_weight(t, E, p.n_vocab, rng));
    for (int64_t il = 0; il < p.n_layer; ++il) {
        const std::string b = "blk." + std::to_string(il) + ".";
        w.add_tensor(b + "attn_norm.weight", TensorType::F32, {E}, ones(E));
        w.add_tensor(b + "attn_q.weight", t, {E, QD}, random_weight(t, E, QD, rng));
        w.add_tensor(b + "attn_k.weight", t, {E, KD}, random_weight(t, E, KD, rng));
        w.add_tensor(b + "attn_v.weight", t, {E, KD}, random_weight(t, E, KD, rng));
        w.add_tensor(b + "attn_q_norm.weight", TensorType::F32, {p.head_dim}, ones(p.head_dim));
        w.add_tensor(b + "attn_k_norm.weight", TensorType::F32, {p.head_dim}, ones(p.head_dim));
        w.add_tensor(b + "attn_output.weight", t, {QD, E}, random_weight(t, QD, E, rng));
        w.add_tensor(b + "ffn_norm.weight", TensorType::F32, {E}, ones(E));
        w.add_tensor(b + "ffn_gate.weight", t, {E, F}, random_weight(t, E, F, rng));
        w.add_tensor(b + "ffn_up.weight", t, {E, F}, random_weight(t, E, F, rng));
        w.add_tensor(b + "ffn_down.weight", t, {F, E}, random_weight(t, F, E, rng));
    }
    w.write(path);
}

// ‖a − b‖₂ / ‖b‖₂.
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < b.size(); ++i) {
        num += double(a[i] - b[i]) * (a[i] - b[i]);
        den += double(b[i]) * b[i];
    }
    return std::sqrt(num / den);
}

// FILE on Vulkan against the CPU backend: the logits of an 8-token prompt (one batch: the matmuls) and of
// 8 decode steps fed with the CPU's greedy tokens (the matvecs); relative L2 difference of all rows and
// how many rows agree on the argmax.
// n_prompt tokens in one batch (8 by default; from 65 on, a GPU with tensor cores runs the prompt
// matmuls on 128-column tiles with f16 activations), then 8 greedy decode steps.
int compare_backends(const std::string& path, int n_prompt) {
    ModelParams vp, cp;
    vp.backend = Backend::Vulkan;
    cp.backend = Backend::Cpu;
    auto vk = Model::load(path, vp);
    auto cpu = Model::load(path, cp);
    if (vk->backend() != Backend::Vulkan) throw Error("the model did not load on Vulkan");
    if (n_prompt < 1 || n_prompt > 4096) throw Error("compare: the prompt length must be 1..4096");
    std::vector<int32_t> ids{1, 22, 333, 4444, 5555, 666, 77, 8};
    ids.resize(static_cast<size_t>(n_prompt));
    for (size_t i = 8; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i * 7919 + 13);
    for (int32_t& id : ids) id %= static_cast<int32_t>(vk->n_vocab());  // tiny test models have tiny vocabularies
    SessionParams sp;
    sp.n_ctx = n_prompt + 24;
    Session a(*vk, sp), b(*cpu, sp);
    a.evaluate(ids, true);
    b.evaluate(ids, true);
    std::vector<float> pa, pb, da, db;
    int agree = 0, rows = 0;
    auto take = [&](std::span<const float> x, std::span<const float> y, std::vector<float>& xa, std::vector<float>& ya) {
        xa.insert(xa.end(), x.begin(), x.end());
        ya.insert(ya.end(), y.begin(), y.end());
        agree += std::max_element(x.begin(), x.end()) - x.begin() == std::max_element(y.begin(), y.end()) - y.begin();
        ++rows;
    };
    for (int64_t r = 0; r < n_prompt; ++r) take(a.logits_row(r), b.logits_row(r), pa, pb);
    for (int step = 0; step < 8; ++step) {
        const auto l = b.logits();
        const int32_t next = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
        a.append(std::span<const int32_t>(&next, 1));
        b.append(std::span<const int32_t>(&next, 1));
        take(a.logits(), b.logits(), da, db);
    }
    std::printf("%s: Vulkan vs CPU relative L2 difference: prompt %.3g, decode %.3g; argmax agrees in %d of %d rows\n",
                path.c_str(), rel_diff(pa, pb), rel_diff(da, db), agree, rows);
    return 0;
}

int bench_model(const std::string& preset, const std::string& type, const std::string& path, int pp, int tg) {
    const Preset* p = nullptr;
    for (const Preset& q : kPresets)
        if (preset == q.name) p = &q;
    if (!p) throw Error("unknown preset " + preset);
    const auto t = tensor_type_from_name(type);
    if (!t) throw Error("unknown type " + type);
    const auto t0 = Clock::now();
    // BONSAI_BENCH_REUSE=1 keeps an existing FILE (sweeps of environment settings over one model).
    if (!(env_is("BONSAI_BENCH_REUSE", "1") && file_exists(path))) write_model(*p, *t, path);
    const auto t1 = Clock::now();
    ModelParams mp;
    mp.backend = Backend::Vulkan;
    auto model = Model::load(path, mp);
    const auto t2 = Clock::now();
    if (model->backend() != Backend::Vulkan) throw Error("the model did not load on Vulkan");
    std::printf("%s %s: synth %.1f s, load+upload %.1f s\n", preset.c_str(), type.c_str(), secs(t0, t1), secs(t1, t2));
    if (!env_is("BONSAI_BENCH_NO_CPU", "1")) {
        // Sanity check against the CPU backend (same file): logits of an 8-token prompt, all rows.
        ModelParams cp;
        cp.backend = Backend::Cpu;
        auto cpu = Model::load(path, cp);
        std::vector<int32_t> ids{1, 22, 333, 4444, 5555, 666, 77, 8};
        SessionParams s8;
        s8.n_ctx = 16;
        Session a(*model, s8), b(*cpu, s8);
        a.evaluate(ids, true);
        b.evaluate(ids, true);
        double max_diff = 0, max_ref = 0;
        for (int64_t r = 0; r < 8; ++r)
            for (size_t i = 0; i < a.logits_row(r).size(); ++i) {
                max_diff = std::max(max_diff, double(std::fabs(a.logits_row(r)[i] - b.logits_row(r)[i])));
                max_ref = std::max(max_ref, double(std::fabs(b.logits_row(r)[i])));
            }
        std::printf("  vs CPU backend (8-token prompt): max |diff| %.4g, max |logit| %.4g\n", max_diff, max_ref);
    }
    SessionParams sp;
    sp.n_ctx = pp + tg + 8;
    sp.n_batch = 512;
    std::mt19937 rng(1);
    std::vector<int32_t> prompt(static_cast<size_t>(pp));
    for (auto& id : prompt) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(p->n_vocab));
    Session s(*model, sp);
    s.evaluate(std::vector<int32_t>(prompt.begin(), prompt.begin() + 16));  // warm-up: pipelines, scratch
    double last_tg = 0;
    for (int rep = 0; rep < 2; ++rep) {
        s.clear();
        const auto a = Clock::now();
        s.evaluate(prompt);
        const auto b = Clock::now();
        for (int i = 0; i < tg; ++i) {
            const int32_t id = static_cast<int32_t>(rng() % static_cast<uint32_t>(p->n_vocab));
            s.append(std::span<const int32_t>(&id, 1));
        }
        const auto c = Clock::now();
        std::printf("  run %d: pp%d %.1f t/s | tg%d %.1f t/s (%.3f ms/token)\n", rep, pp, pp / secs(a, b), tg,
                    tg / secs(b, c), 1000.0 * secs(b, c) / tg);
        last_tg = tg / secs(b, c);
    }
    // The decode roofline as `bonsai-cli bench --backend vulkan` computes it: the device's copy bandwidth
    // (up to 1 GiB buffers, read + write) over the bytes a decode step reads.
    if (tg > 0) {
        const VulkanCopyBandwidth c = VulkanBackend().measure_copy_bandwidth(size_t(1) << 30);
        const double bw = c.best(), bytes = model->decode_bytes_per_token(pp, tg);
        std::printf("  roofline: copy %.1f GB/s (%llu MiB; shader %.1f, transfer %.1f) / %.1f MB per token = %.1f tok/s; "
                    "last tg%d at %.1f %%\n",
                    bw, static_cast<unsigned long long>(c.bytes >> 20), c.shader_gb_s, c.transfer_gb_s, bytes / 1e6,
                    bw * 1e9 / bytes, tg, 100.0 * last_tg * bytes / (bw * 1e9));
    }
    return 0;
}

int bandwidth(size_t mib) {
    VulkanBackend vk;
    std::printf("device: %s (%s), subgroup %u\n", vk.device().name.c_str(), vk.device().type.c_str(),
                vk.device().subgroup_size);
    const VulkanCopyBandwidth c = vk.measure_copy_bandwidth(mib << 20);
    std::printf("  copy %llu MiB x 16, read + write, best of 3: shader %.1f GB/s, transfer %.1f GB/s\n",
                static_cast<unsigned long long>(c.bytes >> 20), c.shader_gb_s, c.transfer_gb_s);
    return 0;
}

// Times `k` repetitions of `record` inside one submit; returns microseconds per repetition.
template <class F>
double time_ops(VulkanBackend& vk, int k, F record) {
    vk.begin();
    record();
    vk.submit_and_wait();  // warm-up (pipeline creation)
    const auto a = Clock::now();
    vk.begin();
    for (int i = 0; i < k; ++i) record();
    vk.submit_and_wait();
    return 1e6 * secs(a, Clock::now()) / k;
}

int ops(const std::string& type) {
    const auto t = tensor_type_from_name(type);
    if (!t) throw Error("unknown type " + type);
    VulkanBackend vk;
    std::printf("device: %s, integer dot products: %s (device: %s, accelerated: %s)\n", vk.device().name.c_str(),
                vk.uses_matvec_int_dot() ? "used" : "not used", vk.device().int_dot ? "yes" : "no",
                vk.device().int_dot_fast ? "yes" : "no");
    VulkanBuffer x = vk.create_buffer(64 << 20, VulkanMemory::DeviceLocal);
    VulkanBuffer y = vk.create_buffer(64 << 20, VulkanMemory::DeviceLocal);
    std::printf("  scale n=2048: %.2f us/dispatch\n", time_ops(vk, 1000, [&] { vk.scale(x, y, 2048, 1.0f); }));
    std::mt19937_64 rng(3);
    struct Shape {
        uint32_t n_in, n_out;
        int k;
    };
    std::vector<Shape> shapes = {// bonsai-1.7b: output, q|k|v, gate|up (half), down, LM head
                                 {2048, 2048, 200}, {2048, 4096, 200}, {2048, 6144, 200}, {6144, 2048, 200}, {2048, 151936, 20},
                                 // bonsai-8b: output, q|k|v, gate|up, down, LM head
                                 {4096, 4096, 200}, {4096, 6144, 200}, {4096, 24576, 100}, {12288, 4096, 200}, {4096, 151936, 20}};
    // BONSAI_BENCH_SHAPES="IN x OUT,...": these shapes instead (e.g. "4096x4096,4224x4096").
    if (const char* e = std::getenv("BONSAI_BENCH_SHAPES"); e && *e) {
        shapes.clear();
        std::string list = e;
        for (size_t p = 0; p < list.size();) {
            const size_t c = std::min(list.find(',', p), list.size());
            unsigned in = 0, out = 0;
            if (std::sscanf(list.substr(p, c - p).c_str(), "%ux%u", &in, &out) != 2 || in == 0 || out == 0)
                throw Error("BONSAI_BENCH_SHAPES: expected IN x OUT pairs like 4096x4096,4224x4096");
            shapes.push_back({in, out, uint64_t(in) * out > (256u << 20) ? 20 : 100});
            p = c + 1;
        }
    }
    for (const auto& sh : shapes) {
        std::vector<uint8_t> wb = random_weight(*t, sh.n_in, sh.n_out, rng);
        VulkanBuffer w = vk.create_buffer(wb.size(), VulkanMemory::DeviceLocal);
        vk.upload(w, 0, wb.data(), wb.size());
        const double us = time_ops(vk, sh.k, [&] { vk.matvec(*t, w, sh.n_in, sh.n_out, x, y); });
        std::printf("  matvec %ux%u: %.2f us (%.1f GB/s of weights)\n", sh.n_in, sh.n_out, us, wb.size() / us / 1e3);
        VulkanBuffer xs = vk.create_buffer(size_t(sh.n_in) * 512 * 4, VulkanMemory::DeviceLocal);
        VulkanBuffer ys = vk.create_buffer(size_t(sh.n_out) * 512 * 4, VulkanMemory::DeviceLocal);
        if (env_is("BONSAI_BENCH_NO_MATMUL", "1")) continue;
        const double us2 = time_ops(vk, 3, [&] { vk.matmul(*t, w, sh.n_in, sh.n_out, xs, 512, ys); });
        std::printf("  matmul %ux%u x512: %.1f us (%.2f TFLOP/s)\n", sh.n_in, sh.n_out, us2,
                    2.0 * sh.n_in * sh.n_out * 512 / us2 / 1e6);
    }
    // A decode step's producer -> norm-fused consumer pairs of the 8B shape, each input rounded by the
    // consumer's workgroups (plain) or once by the producer (VulkanMatvecRounding): output projection ->
    // gate|up, SwiGLU down projection -> q|k|v. Microseconds per pair.
    if (vk.uses_matvec_int_dot()) {
        struct Pair {
            const char* name;
            uint32_t p_in, e, c_rows;
            bool swiglu;
        };
        for (const Pair& pr : {Pair{"output -> gate|up", 4096, 4096, 24576, false}, Pair{"down -> q|k|v", 12288, 4096, 6144, true}}) {
            std::vector<uint8_t> w1 = random_weight(*t, pr.p_in, pr.e, rng), w2 = random_weight(*t, pr.e, pr.c_rows, rng);
            VulkanBuffer b1 = vk.create_buffer(w1.size(), VulkanMemory::DeviceLocal), b2 = vk.create_buffer(w2.size(), VulkanMemory::DeviceLocal);
            vk.upload(b1, 0, w1.data(), w1.size());
            vk.upload(b2, 0, w2.data(), w2.size());
            if (!vk.rounding_ok(*t, VulkanRef(b1, 0), pr.p_in, pr.e, *t, VulkanRef(b2, 0), pr.c_rows)) continue;
            VulkanBuffer q = vk.create_buffer(VulkanBackend::rounded_bytes(pr.e), VulkanMemory::DeviceLocal);
            VulkanMatvecInput pin;
            pin.swiglu = pr.swiglu;
            for (int rounded = 0; rounded < 2; ++rounded) {
                VulkanMatvecInput cin;
                cin.rms_norm = true;
                cin.norm = VulkanRef(x, 0);
                cin.rounded = rounded != 0;
                cin.rounded_in = VulkanRef(q, 0);
                VulkanMatvecRounding r;
                r.out = VulkanRef(q, 0);
                r.norm = VulkanRef(x, 0);
                r.consumer = *t;
                const double us = time_ops(vk, 200, [&] {
                    vk.matvec_fused(*t, VulkanRef(b1, 0), pr.p_in, pr.e, VulkanRef(x, 1 << 20), VulkanRef(y, 0), pin, true,
                                    rounded ? &r : nullptr);
                    vk.matvec_fused(*t, VulkanRef(b2, 0), pr.e, pr.c_rows, VulkanRef(y, 0), VulkanRef(y, 1 << 20), cin);
                });
                std::printf("  pair %s (%ux%u, %ux%u), %s: %.2f us\n", pr.name, pr.p_in, pr.e, pr.e, pr.c_rows,
                            rounded ? "rounded by the producer" : "rounded by each consumer", us);
            }
        }
    }
    return 0;
}

int matmul_check(const std::string& type) {
    const auto t = tensor_type_from_name(type);
    if (!t) throw Error("unknown type " + type);
    VulkanBackend vk;
    std::printf("device: %s, tensor-core matmul: %s\n", vk.device().name.c_str(), vk.uses_coop_matmul() ? "yes" : "no");
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const uint32_t blk = tensor_type_traits(*t).block_size;
    const struct {
        uint32_t ne0, rows, ncols, w_off;
    } shapes[] = {{256, 64, 5, 0}, {2048, 2053, 77, 0}, {6144, 300, 130, 0}, {4096, 131, 512, 0},
                  // K not a multiple of the 64-wide K step (F32/F16: not even of 16), and weights at an
                  // odd byte offset (block types: the per-element loader instead of the word decoder).
                  {blk == 1 ? 200u : 3 * blk, 37, 9, 0}, {blk == 1 ? 256u : 5 * blk, 150, 70, blk == 1 ? 0u : 3u}};
    bool ok = true;
    for (const auto& sh : shapes) {
        std::vector<uint8_t> wb = random_weight(*t, sh.ne0, sh.rows, rng);
        wb.insert(wb.begin(), sh.w_off, uint8_t(0));
        std::vector<float> xf(size_t(sh.ne0) * sh.ncols);
        for (auto& v : xf) v = u(rng);
        VulkanBuffer w = vk.create_buffer(wb.size(), VulkanMemory::DeviceLocal);
        vk.upload(w, 0, wb.data(), wb.size());
        VulkanBuffer x = vk.create_buffer(xf.size() * 4, VulkanMemory::DeviceLocal);
        vk.upload(x, 0, xf.data(), xf.size() * 4);
        VulkanBuffer y = vk.create_buffer(size_t(sh.rows) * sh.ncols * 4, VulkanMemory::DeviceLocal);
        vk.begin();
        vk.matmul(*t, {w, sh.w_off}, sh.ne0, sh.rows, x, sh.ncols, y);
        vk.submit_and_wait();
        std::vector<float> yf(size_t(sh.rows) * sh.ncols);
        vk.download(y, 0, yf.data(), yf.size() * 4);
        wb.erase(wb.begin(), wb.begin() + sh.w_off);
        // The whole tensor at once (I2_S rows are not separately addressable: one scale after all rows).
        std::vector<float> wall(size_t(sh.ne0) * sh.rows);
        dequantize(*t, wb.data(), wall.data(), int64_t(wall.size()));
        double max_rel = 0, max_abs = 0, max_ref = 0;
        for (uint32_t r = 0; r < sh.rows; ++r) {
            const float* wr = wall.data() + size_t(r) * sh.ne0;
            for (uint32_t c = 0; c < sh.ncols; ++c) {
                double ref = 0, mag = 0;
                const float* xc = xf.data() + size_t(c) * sh.ne0;
                for (uint32_t k = 0; k < sh.ne0; ++k) {
                    ref += double(wr[k]) * xc[k];
                    mag += std::fabs(double(wr[k]) * xc[k]);
                }
                const double err = std::fabs(double(yf[size_t(c) * sh.rows + r]) - ref);
                if (!(err <= 4e-3 * mag + 1e-6)) ok = false;
                max_rel = std::max(max_rel, err / (mag + 1e-30));
                max_abs = std::max(max_abs, err);
                max_ref = std::max(max_ref, std::fabs(ref));
            }
        }
        std::printf("  matmul %s ne0=%u rows=%u ncols=%u w_off=%u: max |err| %.3g (max |ref| %.3g), max |err|/sum|wx| %.3g\n",
                    type.c_str(), sh.ne0, sh.rows, sh.ncols, sh.w_off, max_abs, max_ref, max_rel);
    }
    std::printf("  %s\n", ok ? "OK" : "FAIL");
    return ok ? 0 : 1;
}

}  // namespace

// Grid-wide barriers inside one dispatch (VulkanBackend::measure_grid_barrier) for several workgroup
// counts, next to the cost of a dependent dispatch (the scale op, 1000 in one submit).
int grid_barrier(uint32_t rounds) {
    VulkanBackend vk;
    std::printf("device: %s (%s)\n", vk.device().name.c_str(), vk.device().type.c_str());
    VulkanBuffer x = vk.create_buffer(1 << 20, VulkanMemory::DeviceLocal);
    VulkanBuffer y = vk.create_buffer(1 << 20, VulkanMemory::DeviceLocal);
    std::printf("  dependent dispatch (scale n=2048): %.2f us\n", time_ops(vk, 1000, [&] { vk.scale(x, y, 2048, 1.0f); }));
    for (uint32_t groups : {1u, 16u, 66u, 132u, 264u, 528u, 1056u}) {
        const VulkanGridBarrierProbe p = vk.measure_grid_barrier(groups, rounds);
        std::printf("  grid barrier, %4u workgroups of 256: %.2f us per round, %llu mismatches, %llu timeouts\n", groups,
                    p.us_per_round, static_cast<unsigned long long>(p.mismatches), static_cast<unsigned long long>(p.timeouts));
    }
    return 0;
}

// Dependent 4096 x 4096 Q1_0 matvecs as phases of one persistent dispatch against one dispatch each
// (VulkanBackend::measure_matvec_chain), for several workgroup counts; FLAGS as measure_matvec_chain's
// (1 preload, 2 producer-quantized inputs, 3 both; + 4: one phase per dispatch). Each probe allocates its
// own weights, and on the H100 matvecs over buffers allocated after earlier large ones ran slower
// (docs/vulkan.md, session 10), so compare within a line or run one probe per process.
int matvec_chain(uint32_t phases, uint32_t flags, const std::vector<uint32_t>& groups) {
    VulkanBackend vk;
    std::printf("device: %s (%s), %u phases\n", vk.device().name.c_str(), vk.device().type.c_str(), phases);
    for (uint32_t g : groups) {
        const VulkanMatvecChainProbe p = vk.measure_matvec_chain(phases, g, flags);
        std::printf("  %4u workgroups, flags %u: persistent %.2f us per phase, dispatches %.2f us per matvec; rel diff "
                    "%.2e (first) %.2e (last), %llu timeouts\n",
                    g, flags, p.persistent_us, p.dispatch_us, p.rel_diff_first, p.rel_diff_last,
                    static_cast<unsigned long long>(p.timeouts));
    }
    return 0;
}

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> a(argv + 1, argv + argc);
        if (a.size() >= 4 && a[0] == "model")
            return bench_model(a[1], a[2], a[3], a.size() > 4 ? std::stoi(a[4]) : 512, a.size() > 5 ? std::stoi(a[5]) : 128);
        if (a.size() >= 2 && a[0] == "ops") return ops(a[1]);
        if (a.size() >= 2 && a[0] == "matmulcheck") return matmul_check(a[1]);
        if (a.size() >= 2 && a[0] == "compare") {
            int n = 8;
            if (a.size() > 2) {
                const auto r = std::from_chars(a[2].data(), a[2].data() + a[2].size(), n);
                if (r.ec != std::errc() || r.ptr != a[2].data() + a[2].size())
                    throw Error("compare: PROMPT_TOKENS must be a whole number, not '" + a[2] + "'");
            }
            return compare_backends(a[1], n);
        }
        if (!a.empty() && a[0] == "bandwidth") return bandwidth(a.size() > 1 ? std::stoul(a[1]) : 1024);
        if (!a.empty() && a[0] == "chain") {
            std::vector<uint32_t> groups;
            for (size_t i = 3; i < a.size(); ++i) groups.push_back(static_cast<uint32_t>(std::stoul(a[i])));
            if (groups.empty()) groups = {1};
            return matvec_chain(a.size() > 1 ? static_cast<uint32_t>(std::stoul(a[1])) : 36,
                                a.size() > 2 ? static_cast<uint32_t>(std::stoul(a[2])) : 0, groups);
        }
        if (!a.empty() && a[0] == "gridbarrier") return grid_barrier(a.size() > 1 ? static_cast<uint32_t>(std::stoul(a[1])) : 2000);
        std::fprintf(stderr, "usage: bonsai-vulkan-bench model PRESET TYPE FILE [PP] [TG] | bandwidth [MiB] | gridbarrier [ROUNDS] | chain [PHASES [FLAGS [GROUPS...]]] | ops TYPE | matmulcheck TYPE | compare FILE [PROMPT_TOKENS]\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
