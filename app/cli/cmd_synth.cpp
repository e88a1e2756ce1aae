// bonsai-cli synth --preset tiny|bonsai-1.7b|bonsai-4b|bonsai-8b|bitnet-2b --type TYPE -o OUT.gguf
//                  [--seed S] [--vocab VOCAB.gguf]
// Writes a model with the preset's real shapes and random weights (general.synthetic = true), for
// benchmarks and load tests without downloading a model. Tensors are generated and written one chunk of
// rows at a time, so an 8B file needs only a few hundred MB of memory. --vocab copies the tokenizer.*
// keys of another GGUF (the vocabulary size then follows it).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bonsai/gguf.h"
#include "bonsai/tensor_type.h"
#include "command.h"

namespace {

using namespace bonsai;
using bonsai::cli::UsageError;

struct Preset {
    const char* name;
    const char* arch;
    int64_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx;
    float rope_base, eps;
    bool tied;
};

const Preset kPresets[] = {
    {"tiny", "qwen3", 256, 2, 4, 2, 64, 768, 1024, 512, 1e6f, 1e-6f, false},
    {"bonsai-1.7b", "qwen3", 2048, 28, 16, 8, 128, 6144, 151936, 32768, 1e6f, 1e-6f, true},
    {"bonsai-4b", "qwen3", 2560, 36, 32, 8, 128, 9728, 151936, 32768, 1e6f, 1e-6f, true},
    {"bonsai-8b", "qwen3", 4096, 36, 32, 8, 128, 12288, 151936, 65536, 1e6f, 1e-6f, false},
    {"bitnet-2b", "bitnet-b1.58", 2560, 30, 20, 5, 128, 6912, 128256, 4096, 500000.0f, 1e-5f, true},
};

// Little-endian GGUF serialization into a byte buffer.
struct Buf {
    std::vector<uint8_t> b;
    template <class T>
    void put(T v) {
        uint8_t tmp[sizeof(T)];
        std::memcpy(tmp, &v, sizeof(T));
        b.insert(b.end(), tmp, tmp + sizeof(T));
    }
    void str(std::string_view s) {
        put<uint64_t>(s.size());
        b.insert(b.end(), s.begin(), s.end());
    }
};

struct Meta {
    Buf buf;
    uint64_t count = 0;
    void key(const std::string& k, gguf::ValueType t) {
        buf.str(k);
        buf.put<uint32_t>(static_cast<uint32_t>(t));
        ++count;
    }
    void u32(const std::string& k, uint32_t v) { key(k, gguf::ValueType::U32), buf.put(v); }
    void f32(const std::string& k, float v) { key(k, gguf::ValueType::F32), buf.put(v); }
    void boolean(const std::string& k, bool v) { key(k, gguf::ValueType::BOOL), buf.put<uint8_t>(v ? 1 : 0); }
    void string(const std::string& k, const std::string& v) { key(k, gguf::ValueType::STRING), buf.str(v); }

    void scalar(gguf::ValueType t, const gguf::KeyValue& kv) {
        switch (t) {
            case gguf::ValueType::U8: buf.put<uint8_t>(static_cast<uint8_t>(kv.u)); break;
            case gguf::ValueType::I8: buf.put<int8_t>(static_cast<int8_t>(kv.i)); break;
            case gguf::ValueType::U16: buf.put<uint16_t>(static_cast<uint16_t>(kv.u)); break;
            case gguf::ValueType::I16: buf.put<int16_t>(static_cast<int16_t>(kv.i)); break;
            case gguf::ValueType::U32: buf.put<uint32_t>(static_cast<uint32_t>(kv.u)); break;
            case gguf::ValueType::I32: buf.put<int32_t>(static_cast<int32_t>(kv.i)); break;
            case gguf::ValueType::F32: buf.put<float>(static_cast<float>(kv.f)); break;
            case gguf::ValueType::BOOL: buf.put<uint8_t>(kv.u ? 1 : 0); break;
            case gguf::ValueType::STRING: buf.str(kv.str); break;
            case gguf::ValueType::U64: buf.put<uint64_t>(kv.u); break;
            case gguf::ValueType::I64: buf.put<int64_t>(kv.i); break;
            case gguf::ValueType::F64: buf.put<double>(kv.f); break;
            case gguf::ValueType::ARRAY: throw Error("nested arrays are not supported");
        }
    }
    // Copies any metadata value (scalars and arrays of scalars or strings).
    void copy(const gguf::KeyValue& kv) {
        key(kv.key, kv.type);
        if (kv.type != gguf::ValueType::ARRAY) return scalar(kv.type, kv);
        const gguf::ArrayView& a = kv.arr;
        buf.put<uint32_t>(static_cast<uint32_t>(a.elem_type()));
        buf.put<uint64_t>(a.size());
        for (uint64_t i = 0; i < a.size(); ++i) {
            gguf::KeyValue e;
            switch (a.elem_type()) {
                case gguf::ValueType::STRING: e.str = a.string_at(i); break;
                case gguf::ValueType::F32:
                case gguf::ValueType::F64: e.f = a.float_at(i); break;
                default:
                    e.i = a.int_at(i);
                    e.u = static_cast<uint64_t>(e.i);
                    break;
            }
            scalar(a.elem_type(), e);
        }
    }
};

struct Plan {
    std::string name;
    std::vector<int64_t> ne;
    TensorType type;
    float sd;     // normal std-dev of the weights; 0 = norm vector (1 + small noise)
    uint64_t offset = 0;
    uint64_t nbytes = 0;
};

// xorshift64* with an approximate normal (Irwin-Hall of 4 uniforms): fast enough for billions of values.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x1234567ull) {}
    uint64_t next() {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        return s * 0x2545F4914F6CDD1Dull;
    }
    float normal() {
        const uint64_t r = next();
        float sum = 0;
        for (int k = 0; k < 4; ++k) sum += static_cast<float>((r >> (16 * k)) & 0xFFFF) * (1.0f / 65536.0f);
        return (sum - 2.0f) * 1.7320508f;
    }
};

int run_synth(cli::Args& args) {
    const auto preset_name = args.value({"--preset"});
    const auto type_name = args.value({"--type"});
    const auto out_path = args.value({"-o", "--output"});
    const uint64_t seed = static_cast<uint64_t>(args.integer({"--seed"}).value_or(1));
    const auto vocab_path = args.value({"--vocab"});
    if (!args.positionals().empty()) throw UsageError("unexpected argument");
    if (!preset_name || !type_name || !out_path) throw UsageError("--preset, --type and -o are required");
    const Preset* pr = nullptr;
    for (const auto& p : kPresets)
        if (*preset_name == p.name) pr = &p;
    if (!pr) throw UsageError("unknown preset '" + *preset_name + "' (tiny, bonsai-1.7b, bonsai-4b, bonsai-8b, bitnet-2b)");
    const auto type = tensor_type_from_name(*type_name);
    if (!type) throw UsageError("unknown tensor type '" + *type_name + "'");
    if (!has_quantizer(*type)) throw UsageError(std::string("no quantizer for ") + tensor_type_name(*type));
    const bool bitnet = std::string(pr->arch).rfind("bitnet", 0) == 0;
    if (*type == TensorType::I2_S && !bitnet) throw UsageError("I2_S is only valid for the bitnet-2b preset");
    // The fork arch name is what makes readers take type id 36 as I2_S; other types use llama.cpp's dialect.
    const std::string arch = bitnet && *type != TensorType::I2_S ? "bitnet" : pr->arch;

    std::unique_ptr<gguf::GgufFile> vocab;
    int64_t n_vocab = pr->n_vocab;
    if (vocab_path) {
        vocab = gguf::GgufFile::open(*vocab_path);
        const gguf::ArrayView* toks = vocab->get_array("tokenizer.ggml.tokens");
        if (!toks || toks->size() == 0) throw Error("'" + *vocab_path + "' has no tokenizer.ggml.tokens");
        n_vocab = static_cast<int64_t>(toks->size());
    }

    Meta meta;
    const std::string p = arch + ".";
    meta.string("general.architecture", arch);
    meta.string("general.name", std::string("synthetic-") + pr->name + "-" + tensor_type_name(*type));
    meta.boolean("general.synthetic", true);
    meta.u32(p + "context_length", static_cast<uint32_t>(pr->n_ctx));
    meta.u32(p + "embedding_length", static_cast<uint32_t>(pr->n_embd));
    meta.u32(p + "block_count", static_cast<uint32_t>(pr->n_layer));
    meta.u32(p + "feed_forward_length", static_cast<uint32_t>(pr->n_ff));
    meta.u32(p + "attention.head_count", static_cast<uint32_t>(pr->n_head));
    meta.u32(p + "attention.head_count_kv", static_cast<uint32_t>(pr->n_head_kv));
    meta.u32(p + "attention.key_length", static_cast<uint32_t>(pr->head_dim));
    meta.u32(p + "attention.value_length", static_cast<uint32_t>(pr->head_dim));
    meta.u32(p + "rope.dimension_count", static_cast<uint32_t>(pr->head_dim));
    meta.f32(p + "rope.freq_base", pr->rope_base);
    meta.f32(p + "attention.layer_norm_rms_epsilon", pr->eps);
    if (arch == "bitnet") meta.string(p + "hidden_activation", "relu2");
    if (vocab)
        for (const auto& kv : vocab->metadata())
            if (kv.key.rfind("tokenizer.", 0) == 0) meta.copy(kv);

    const int64_t E = pr->n_embd, D = pr->head_dim, QD = pr->n_head * D, KD = pr->n_head_kv * D, F = pr->n_ff;
    const TensorType emb_type = (bitnet || *type == TensorType::I2_S) ? TensorType::F16 : *type;
    std::vector<Plan> plan;
    auto lin = [&](const std::string& n, int64_t in, int64_t out) {
        plan.push_back({n, {in, out}, *type, 0.8f / std::sqrt(static_cast<float>(in))});
    };
    auto norm = [&](const std::string& n, int64_t len) { plan.push_back({n, {len}, TensorType::F32, 0.0f}); };
    plan.push_back({"token_embd.weight", {E, n_vocab}, emb_type, 1.6f / std::sqrt(static_cast<float>(E))});
    norm("output_norm.weight", E);
    if (!pr->tied) plan.push_back({"output.weight", {E, n_vocab}, *type, 1.6f / std::sqrt(static_cast<float>(E))});
    for (int64_t l = 0; l < pr->n_layer; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        norm(b + "attn_norm.weight", E);
        lin(b + "attn_q.weight", E, QD);
        lin(b + "attn_k.weight", E, KD);
        lin(b + "attn_v.weight", E, KD);
        if (!bitnet) {
            norm(b + "attn_q_norm.weight", D);
            norm(b + "attn_k_norm.weight", D);
        } else {
            norm(b + "attn_sub_norm.weight", QD);
            norm(b + "ffn_sub_norm.weight", F);
        }
        lin(b + "attn_output.weight", QD, E);
        norm(b + "ffn_norm.weight", E);
        lin(b + "ffn_gate.weight", E, F);
        lin(b + "ffn_up.weight", E, F);
        lin(b + "ffn_down.weight", F, E);
    }

    constexpr uint64_t kAlign = 32;
    auto align = [](uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; };
    Buf infos;
    uint64_t off = 0;
    for (auto& t : plan) {
        int64_t ne[4] = {1, 1, 1, 1};
        for (size_t i = 0; i < t.ne.size(); ++i) ne[i] = t.ne[i];
        t.nbytes = tensor_nbytes(t.type, ne);
        t.offset = off;
        off = align(off + t.nbytes);
        infos.str(t.name);
        infos.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
        for (int64_t d : t.ne) infos.put<uint64_t>(static_cast<uint64_t>(d));
        infos.put<uint32_t>(tensor_type_traits(t.type).file_id);
        infos.put<uint64_t>(t.offset);
    }

    std::ofstream out(*out_path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot create '" + *out_path + "'");
    Buf head;
    head.b = {'G', 'G', 'U', 'F'};
    head.put<uint32_t>(3);
    head.put<uint64_t>(plan.size());
    head.put<uint64_t>(meta.count);
    uint64_t pos = 0;
    auto write = [&](const void* data, size_t n) {
        out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
        if (!out) throw Error("write to '" + *out_path + "' failed (disk full?)");
        pos += n;
    };
    auto pad = [&]() {
        static const uint8_t zeros[kAlign] = {};
        write(zeros, align(pos) - pos);
    };
    write(head.b.data(), head.b.size());
    write(meta.buf.b.data(), meta.buf.b.size());
    write(infos.b.data(), infos.b.size());
    pad();

    Rng rng(seed);
    std::vector<float> vals;
    std::vector<uint8_t> bytes;
    uint64_t written = 0;
    for (const auto& t : plan) {
        const int64_t ne0 = t.ne[0], rows = t.ne.size() > 1 ? t.ne[1] : 1;
        // I2_S carries one scale for the whole tensor, so it is quantized in one piece (bitnet sizes are small).
        const int64_t chunk = t.type == TensorType::I2_S ? rows : std::max<int64_t>(1, (int64_t(1) << 22) / ne0);
        for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
            const int64_t nr = std::min(chunk, rows - r0);
            vals.resize(static_cast<size_t>(nr * ne0));
            // I2_S's quantizer expects weights that are already ternary ({-s, 0, +s}, BitNet's absmean
            // rounding): from plain normals every weight would become +-max|w| (about 5 sd), a model whose
            // activations blow up over its layers. So its weights are rounded to sd * {-1, 0, 1} first.
            const bool ternary = t.type == TensorType::I2_S && t.sd != 0.0f;
            for (auto& v : vals) {
                const float z = rng.normal();
                v = t.sd == 0.0f ? 1.0f + 0.05f * z : ternary ? t.sd * std::clamp(std::round(z), -1.0f, 1.0f) : t.sd * z;
            }
            const int64_t ne[4] = {ne0, nr, 1, 1};
            bytes.resize(tensor_nbytes(t.type, ne));
            quantize(t.type, vals.data(), bytes.data(), nr * ne0);
            write(bytes.data(), bytes.size());
        }
        pad();
        written += t.nbytes;
    }
    out.close();
    if (!out) throw Error("closing '" + *out_path + "' failed");
    std::fprintf(stderr, "wrote %s: %s %s, %zu tensors, %.1f MiB of weights (synthetic, random)\n", out_path->c_str(),
                 arch.c_str(), tensor_type_name(*type), plan.size(), static_cast<double>(written) / (1024.0 * 1024.0));
    return 0;
}

const bonsai::cli::Registration reg{
    "synth",
    "--preset tiny|bonsai-1.7b|bonsai-4b|bonsai-8b|bitnet-2b --type TYPE -o OUT.gguf [--seed S] [--vocab VOCAB.gguf]  "
    "write a model with real shapes and random weights",
    run_synth};

}  // namespace
