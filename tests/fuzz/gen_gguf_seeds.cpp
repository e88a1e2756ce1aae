// Writes the GGUF seed files of tests/fuzz/corpus/gguf/ (run once by hand; the output is committed):
//   gen_gguf_seeds <folder>
// The seeds give the fuzzer a head start into every part of the reader: every metadata value type,
// every tensor type, three alignments, and tokenizer metadata of both tokenizer models.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bonsai/gguf.h"
#include "bonsai/tensor_type.h"

namespace {

using bonsai::TensorType;
using bonsai::gguf::GgufWriter;

// Tensor bytes: real quantized values where a quantizer exists, else a fixed byte pattern.
std::vector<uint8_t> tensor_bytes(TensorType t, const std::vector<int64_t>& ne) {
    int64_t ne4[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < ne.size(); ++i) ne4[i] = ne[i];
    std::vector<uint8_t> out(bonsai::tensor_nbytes(t, ne4));
    const int64_t n = ne4[0] * ne4[1] * ne4[2] * ne4[3];
    if (bonsai::has_quantizer(t)) {
        std::vector<float> src(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) src[static_cast<size_t>(i)] = std::sin(0.37f * static_cast<float>(i)) * 2.0f;
        bonsai::quantize(t, src.data(), out.data(), n);
    } else {
        for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 37 + 11);
    }
    return out;
}

// Every value type and every tensor type the architecture allows (I2_S ids exist only in BitNet's fork).
void all_types(const std::string& path, uint32_t alignment, const std::string& arch) {
    GgufWriter w(alignment);
    w.set_string("general.architecture", arch);
    w.set_string("general.name", "fuzz seed \xF0\x9F\x8C\xB3");
    w.set_u8("t.u8", 200);
    w.set_i8("t.i8", -5);
    w.set_u16("t.u16", 60000);
    w.set_i16("t.i16", -30000);
    w.set_u32("t.u32", 4000000000u);
    w.set_i32("t.i32", -2000000000);
    w.set_u64("t.u64", 18000000000000000000ull);
    w.set_i64("t.i64", -9000000000000000000ll);
    w.set_f32("t.f32", 1.5f);
    w.set_f64("t.f64", -2.25);
    w.set_bool("t.bool", true);
    w.set_array_u8("t.au8", {1, 2, 255});
    w.set_array_i8("t.ai8", {-1, 0, 1});
    w.set_array_u16("t.au16", {1, 65535});
    w.set_array_i16("t.ai16", {-32768, 32767});
    w.set_array_u32("t.au32", {0, 4294967295u});
    w.set_array_i32("t.ai32", {-7, 7});
    w.set_array_u64("t.au64", {1, 18446744073709551615ull});
    w.set_array_i64("t.ai64", {-1, 1});
    w.set_array_f32("t.af32", {0.5f, -0.0f});
    w.set_array_f64("t.af64", {1e300, -1e-300});
    w.set_array_bool("t.abool", {true, false, true});
    w.set_array_string("t.astr", {"", "a", "\xC3\xA9t\xC3\xA9"});
    for (int i = 0; i < static_cast<int>(TensorType::COUNT); ++i) {
        const auto t = static_cast<TensorType>(i);
        if ((t == TensorType::I2_S) != (arch == "bitnet-b1.58") && t != TensorType::F32) continue;
        const uint32_t bs = bonsai::tensor_type_traits(t).block_size;
        const int64_t row = bs >= 128 ? bs : 128;  // a multiple of every block size
        w.add_tensor(std::string("w.") + bonsai::tensor_type_name(t), t, {row, 2}, tensor_bytes(t, {row, 2}));
    }
    w.add_tensor("w.3d", TensorType::F32, {4, 3, 2}, tensor_bytes(TensorType::F32, {4, 3, 2}));
    w.add_tensor("w.4d", TensorType::F16, {2, 2, 2, 2}, tensor_bytes(TensorType::F16, {2, 2, 2, 2}));
    w.write(path);
}

// GPT-2's byte -> printable character table (bytes that are not printable go to U+0100 + n).
std::vector<std::string> byte_symbols() {
    std::vector<std::string> out(256);
    int next = 256;
    auto utf8 = [](int cp) {
        std::string s;
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else {
            s += static_cast<char>(0xC0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        }
        return s;
    };
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        out[static_cast<size_t>(b)] = utf8(printable ? b : next++);
    }
    return out;
}

void gpt2_vocab(const std::string& path) {
    GgufWriter w;
    w.set_string("general.architecture", "qwen3");
    std::vector<std::string> tokens = byte_symbols();
    const std::string G = "\xC4\xA0";  // the symbol of a space byte
    std::vector<std::string> merges = {G + " t", "h e", G + "t he", "i n", G + " a", "e r", "o n", G + " w"};
    for (const auto& m : merges) tokens.push_back(m.substr(0, m.find(' ')) + m.substr(m.find(' ') + 1));
    tokens.push_back("<|endoftext|>");
    tokens.push_back("<|im_start|>");
    tokens.push_back("<|im_end|>");
    tokens.push_back("[PAD1]");
    std::vector<int32_t> types(tokens.size(), 1);
    types[tokens.size() - 4] = types[tokens.size() - 3] = types[tokens.size() - 2] = 3;
    types[tokens.size() - 1] = 4;
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "qwen2");
    w.set_array_string("tokenizer.ggml.tokens", tokens);
    w.set_array_i32("tokenizer.ggml.token_type", types);
    w.set_array_string("tokenizer.ggml.merges", merges);
    w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tokens.size() - 4));
    w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tokens.size() - 2));
    w.set_bool("tokenizer.ggml.add_bos_token", false);
    w.set_string("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}");
    w.write(path);
}

void spm_vocab(const std::string& path) {
    GgufWriter w(64);
    w.set_string("general.architecture", "llama");
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types = {2, 3, 3};
    std::vector<float> scores = {0, 0, 0};
    char buf[8];
    for (int b = 0; b < 256; ++b) {
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        tokens.push_back(buf);
        types.push_back(6);
        scores.push_back(0);
    }
    const std::string S = "\xE2\x96\x81";  // U+2581
    for (const std::string& t : std::vector<std::string>{S, S + "a", "a", "b", "ab", S + "ab", "c", S + "the", "t", "h", "e", "th", "he"}) {
        tokens.push_back(t);
        types.push_back(1);
        scores.push_back(-static_cast<float>(tokens.size()));
    }
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_array_string("tokenizer.ggml.tokens", tokens);
    w.set_array_i32("tokenizer.ggml.token_type", types);
    w.set_array_f32("tokenizer.ggml.scores", scores);
    w.set_u32("tokenizer.ggml.bos_token_id", 1);
    w.set_u32("tokenizer.ggml.eos_token_id", 2);
    w.set_u32("tokenizer.ggml.unknown_token_id", 0);
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    w.set_bool("tokenizer.ggml.add_space_prefix", true);
    w.add_tensor("token_embd.weight", TensorType::Q8_0, {32, static_cast<int64_t>(tokens.size())},
                 tensor_bytes(TensorType::Q8_0, {32, static_cast<int64_t>(tokens.size())}));
    w.write(path);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: gen_gguf_seeds <folder>\n");
        return 2;
    }
    const std::string dir = argv[1];
    try {
        all_types(dir + "/all-types-align32.gguf", 32, "qwen3");
        all_types(dir + "/all-types-align8.gguf", 8, "llama");
        all_types(dir + "/i2s-bitnet-b158.gguf", 32, "bitnet-b1.58");
        gpt2_vocab(dir + "/vocab-gpt2-tiny.gguf");
        spm_vocab(dir + "/vocab-spm-tiny-align64.gguf");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gen_gguf_seeds: %s\n", e.what());
        return 1;
    }
    return 0;
}
