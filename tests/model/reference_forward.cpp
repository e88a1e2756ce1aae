#include "reference_forward.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "bonsai/tensor_type.h"

namespace bonsai::test {
namespace {

using Vec = std::vector<double>;

struct Mat {  // rows × cols, row r = output r
    int64_t rows = 0, cols = 0;
    TensorType type = TensorType::F32;
    Vec v;
};

bool g_round_acts = true;  // RefOptions::round_activations for the current call

// The activation rounding llama.cpp applies before multiplying by a weight of type t (fixtures README,
// formats.md §2.3.10), computed here in double from its definition.
Vec round_activations(TensorType t, const Vec& x) {
    if (!g_round_acts) return x;
    Vec y = x;
    const size_t n = x.size();
    auto blocks = [&](size_t bs, bool q8k) {
        for (size_t b = 0; b < n; b += bs) {
            double amax = 0, mx = 0;
            for (size_t i = b; i < b + bs; ++i)
                if (std::fabs(x[i]) > amax) {
                    amax = std::fabs(x[i]);
                    mx = x[i];
                }
            for (size_t i = b; i < b + bs; ++i) {
                if (amax == 0) {
                    y[i] = 0;
                } else if (q8k) {  // Q8_K: iscale = -127/max (signed), q = min(127, round), x' = q / iscale
                    const float iscale = -127.0f / static_cast<float>(mx);
                    const double q = std::min(127.0, static_cast<double>(std::nearbyint(iscale * static_cast<float>(x[i]))));
                    y[i] = q * static_cast<double>(1.0f / iscale);
                } else {  // Q8_0: d = fp16(amax/127), q = round(x·127/amax), x' = d·q
                    const float fa = static_cast<float>(amax);
                    const double d = fp16_to_fp32(fp32_to_fp16(fa / 127.0f));
                    y[i] = d * std::nearbyint(static_cast<float>(x[i]) * (127.0f / fa));
                }
            }
        }
    };
    switch (t) {
        case TensorType::F16:
            for (auto& v : y) v = fp16_to_fp32(fp32_to_fp16(static_cast<float>(v)));
            break;
        case TensorType::BF16:
            for (auto& v : y) v = bf16_to_fp32(fp32_to_bf16(static_cast<float>(v)));
            break;
        case TensorType::Q8_0: case TensorType::Q4_0: case TensorType::Q1_0: case TensorType::Q2_0:
        case TensorType::PQ2_0: case TensorType::PTQ1_0:
            blocks(32, false);
            break;
        case TensorType::TQ1_0: case TensorType::TQ2_0: case TensorType::Q4_K: case TensorType::Q6_K:
            blocks(256, true);
            break;
        case TensorType::I2_S: {  // per row: s = 127 / max(amax, 1e-5), q = clamp(round(x·s)), x' = q / s
            double amax = 0;
            for (double v : x) amax = std::max(amax, std::fabs(v));
            const float sc = 127.0f / std::max(static_cast<float>(amax), 1e-5f);
            for (size_t i = 0; i < n; ++i)
                y[i] = std::clamp(std::nearbyint(static_cast<float>(x[i]) * sc), -128.0f, 127.0f) / static_cast<double>(sc);
            break;
        }
        default: break;
    }
    return y;
}

Vec load_vec(const gguf::GgufFile& f, const std::string& name) {
    const gguf::TensorInfo* t = f.tensor(name);
    if (!t) throw std::runtime_error("reference: missing " + name);
    std::vector<float> tmp(static_cast<size_t>(t->n_elements()));
    dequantize(t->type, t->data, tmp.data(), t->n_elements());
    return Vec(tmp.begin(), tmp.end());
}

Mat load_mat(const gguf::GgufFile& f, const std::string& name) {
    const gguf::TensorInfo* t = f.tensor(name);
    if (!t) throw std::runtime_error("reference: missing " + name);
    Mat m;
    m.cols = t->ne[0];
    m.rows = t->ne[1];
    m.type = t->type;
    m.v = load_vec(f, name);
    return m;
}

double scalar_or_one(const gguf::GgufFile& f, const std::string& name) {
    if (!f.tensor(name)) return 1.0;
    return load_vec(f, name)[0];
}

Vec matvec(const Mat& m, const Vec& x_in, double scale = 1.0) {
    const Vec x = round_activations(m.type, x_in);
    Vec y(static_cast<size_t>(m.rows));
    for (int64_t r = 0; r < m.rows; ++r) {
        double s = 0;
        const double* w = m.v.data() + r * m.cols;
        for (int64_t c = 0; c < m.cols; ++c) s += w[c] * x[static_cast<size_t>(c)];
        y[static_cast<size_t>(r)] = s * scale;
    }
    return y;
}

void rmsnorm(double* x, int64_t n, const double* w, double eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
    const double k = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) x[i] = x[i] * k * w[i];
}

double f16(double x) { return fp16_to_fp32(fp32_to_fp16(static_cast<float>(x))); }

struct Layer {
    Vec attn_norm, q_norm, k_norm, attn_sub_norm, ffn_norm, ffn_sub_norm;
    Mat q, k, v, o, gate, up, down;
    double sq = 1, sk = 1, sv = 1, so = 1, sg = 1, su = 1, sd = 1;
};

}  // namespace

std::vector<double> reference_forward(const gguf::GgufFile& f, const std::vector<int32_t>& tokens, const RefOptions& opt) {
    g_round_acts = opt.round_activations;
    const std::string arch = *f.get_string("general.architecture");
    const std::string p = arch + ".";
    const bool qwen3 = arch == "qwen3", llama = arch == "llama", bitnet_up = arch == "bitnet";
    const bool bitnet_fork = arch == "bitnet-b1.58" || arch == "bitnet-25";
    if (!qwen3 && !llama && !bitnet_up && !bitnet_fork) throw std::runtime_error("reference: arch " + arch);
    auto geti = [&](const std::string& k) {
        auto v = f.get_int(p + k);
        if (!v) throw std::runtime_error("reference: missing " + p + k);
        return *v;
    };
    const int64_t E = geti("embedding_length"), L = geti("block_count"), F = geti("feed_forward_length");
    const int64_t H = geti("attention.head_count");
    const int64_t K = f.get_int(p + "attention.head_count_kv").value_or(H);
    const int64_t D = f.get_int(p + "attention.key_length").value_or(E / H);
    const int64_t R = f.get_int(p + "rope.dimension_count").value_or(D);
    const double base = f.get_float(p + "rope.freq_base").value_or(10000.0);
    const double eps = *f.get_float(p + "attention.layer_norm_rms_epsilon");
    bool relu2 = bitnet_fork;
    if (bitnet_up) {
        const std::string act = f.get_string(p + "hidden_activation").value_or("silu");
        relu2 = act == "relu2" || act == "relu_sqr" || act == "relu_squared";
    }
    const bool neox = !llama;

    const Mat emb = load_mat(f, "token_embd.weight");
    const int64_t V = emb.rows;
    const Vec out_norm = load_vec(f, "output_norm.weight");
    const bool has_out = f.tensor("output.weight") && !bitnet_up;
    const Mat out = has_out ? load_mat(f, "output.weight") : Mat{};
    const Mat& head = has_out ? out : emb;
    Vec freq_factors;
    if (llama && f.tensor("rope_freqs.weight")) freq_factors = load_vec(f, "rope_freqs.weight");
    // Linear RoPE scaling (rope.scaling.type "linear"): every angle divided by rope.scaling.factor.
    double angle_scale = 1.0;
    if (f.get_string(p + "rope.scaling.type").value_or("") == "linear")
        angle_scale = 1.0 / f.get_float(p + "rope.scaling.factor").value_or(1.0);

    std::vector<Layer> layers(static_cast<size_t>(L));
    for (int64_t l = 0; l < L; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        Layer& y = layers[static_cast<size_t>(l)];
        y.attn_norm = load_vec(f, b + "attn_norm.weight");
        y.ffn_norm = load_vec(f, b + "ffn_norm.weight");
        y.q = load_mat(f, b + "attn_q.weight");
        y.k = load_mat(f, b + "attn_k.weight");
        y.v = load_mat(f, b + "attn_v.weight");
        y.o = load_mat(f, b + "attn_output.weight");
        y.gate = load_mat(f, b + "ffn_gate.weight");
        y.up = load_mat(f, b + "ffn_up.weight");
        y.down = load_mat(f, b + "ffn_down.weight");
        if (qwen3) {
            y.q_norm = load_vec(f, b + "attn_q_norm.weight");
            y.k_norm = load_vec(f, b + "attn_k_norm.weight");
        }
        if (bitnet_up || bitnet_fork) {
            y.attn_sub_norm = load_vec(f, b + "attn_sub_norm.weight");
            y.ffn_sub_norm = load_vec(f, b + "ffn_sub_norm.weight");
        }
        if (bitnet_up) {
            y.sq = scalar_or_one(f, b + "attn_q.scale");
            y.sk = scalar_or_one(f, b + "attn_k.scale");
            y.sv = scalar_or_one(f, b + "attn_v.scale");
            y.so = scalar_or_one(f, b + "attn_output.scale");
            y.sg = scalar_or_one(f, b + "ffn_gate.scale");
            y.su = scalar_or_one(f, b + "ffn_up.scale");
            y.sd = scalar_or_one(f, b + "ffn_down.scale");
        }
    }

    // RoPE angles: llama.cpp defines θ_i by repeated f32 multiplication (θ_0 = pos, θ_{i+1} = θ_i · base^(-2/R)),
    // which drifts from pos·base^(-2i/R) by ~1e-6 relative per step; at positions > 20 that drift alone
    // moves logits by ~1e-4, so the reference uses the same recurrence (in f32) to stay sharp.
    auto rope = [&](double* x, int64_t pos) {
        const float theta_scale = std::pow(static_cast<float>(base), -2.0f / static_cast<float>(R));
        float theta_f = static_cast<float>(pos);
        for (int64_t i = 0; i < R / 2; ++i, theta_f *= theta_scale) {
            double theta = theta_f;
            if (!freq_factors.empty()) theta /= freq_factors[static_cast<size_t>(i)];
            theta *= angle_scale;
            const double c = std::cos(theta), s = std::sin(theta);
            const int64_t a = neox ? i : 2 * i, b = neox ? i + R / 2 : 2 * i + 1;
            const double x0 = x[a], x1 = x[b];
            x[a] = x0 * c - x1 * s;
            x[b] = x0 * s + x1 * c;
        }
    };

    const size_t n = tokens.size();
    // Per layer caches of K and V (position-major).
    std::vector<std::vector<Vec>> kc(static_cast<size_t>(L)), vc(static_cast<size_t>(L));
    std::vector<double> logits(n * static_cast<size_t>(V));
    for (size_t t = 0; t < n; ++t) {
        const int64_t id = tokens[t];
        if (id < 0 || id >= V) throw std::runtime_error("reference: token out of range");
        Vec x(emb.v.begin() + id * E, emb.v.begin() + (id + 1) * E);
        for (int64_t l = 0; l < L; ++l) {
            Layer& y = layers[static_cast<size_t>(l)];
            Vec a = x;
            rmsnorm(a.data(), E, y.attn_norm.data(), eps);
            Vec q = matvec(y.q, a, y.sq), k = matvec(y.k, a, y.sk), v = matvec(y.v, a, y.sv);
            for (int64_t h = 0; h < H; ++h) {
                if (qwen3) rmsnorm(q.data() + h * D, D, y.q_norm.data(), eps);
                rope(q.data() + h * D, static_cast<int64_t>(t));
            }
            for (int64_t g = 0; g < K; ++g) {
                if (qwen3) rmsnorm(k.data() + g * D, D, y.k_norm.data(), eps);
                rope(k.data() + g * D, static_cast<int64_t>(t));
            }
            if (opt.f16_attention) {
                for (auto& z : k) z = f16(z);
                for (auto& z : v) z = f16(z);
                for (auto& z : q) z = f16(z);
            }
            kc[static_cast<size_t>(l)].push_back(k);
            vc[static_cast<size_t>(l)].push_back(v);
            Vec att(static_cast<size_t>(H * D), 0.0);
            for (int64_t h = 0; h < H; ++h) {
                const int64_t g = h / (H / K);
                std::vector<double> sc(t + 1);
                double mx = -1e300;
                for (size_t j = 0; j <= t; ++j) {
                    double s = 0;
                    for (int64_t d = 0; d < D; ++d) s += q[static_cast<size_t>(h * D + d)] * kc[static_cast<size_t>(l)][j][static_cast<size_t>(g * D + d)];
                    sc[j] = s / std::sqrt(static_cast<double>(D));
                    mx = std::max(mx, sc[j]);
                }
                double sum = 0;
                for (auto& s : sc) sum += (s = std::exp(s - mx));
                for (size_t j = 0; j <= t; ++j) {
                    double pj = sc[j] / sum;
                    if (opt.f16_attention) pj = f16(pj);
                    for (int64_t d = 0; d < D; ++d)
                        att[static_cast<size_t>(h * D + d)] += pj * vc[static_cast<size_t>(l)][j][static_cast<size_t>(g * D + d)];
                }
            }
            if (!y.attn_sub_norm.empty()) rmsnorm(att.data(), H * D, y.attn_sub_norm.data(), eps);
            const Vec o = matvec(y.o, att, y.so);
            for (int64_t i = 0; i < E; ++i) x[static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
            Vec b = x;
            rmsnorm(b.data(), E, y.ffn_norm.data(), eps);
            Vec g = matvec(y.gate, b, y.sg);
            const Vec u = matvec(y.up, b, y.su);
            for (int64_t i = 0; i < F; ++i) {
                const double z = g[static_cast<size_t>(i)];
                const double act = relu2 ? (z > 0 ? z * z : 0.0) : z / (1.0 + std::exp(-z));
                g[static_cast<size_t>(i)] = act * u[static_cast<size_t>(i)];
            }
            if (!y.ffn_sub_norm.empty()) rmsnorm(g.data(), F, y.ffn_sub_norm.data(), eps);
            const Vec dn = matvec(y.down, g, y.sd);
            for (int64_t i = 0; i < E; ++i) x[static_cast<size_t>(i)] += dn[static_cast<size_t>(i)];
        }
        rmsnorm(x.data(), E, out_norm.data(), eps);
        const Vec lg = matvec(head, x);
        std::copy(lg.begin(), lg.end(), logits.begin() + static_cast<std::ptrdiff_t>(t * static_cast<size_t>(V)));
    }
    return logits;
}

}  // namespace bonsai::test
