#pragma once
// A loaded language model: hyper-parameters and weights of one GGUF file, ready for Sessions.
//
// Supported architectures (general.architecture):
//   "qwen3"                         Bonsai / Ternary Bonsai (QK-norm, NEOX RoPE, SwiGLU)
//   "llama"                         Llama-family files (NORM RoPE, SwiGLU)
//   "bitnet"                        llama.cpp's BitNet dialect (*.scale tensors, sub-norms, NEOX RoPE)
//   "bitnet-b1.58", "bitnet-25"     Microsoft's BitNet fork dialect (I2_S weights, squared ReLU)
// Weights stay in the file's memory map; the CPU backend multiplies them in place.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bonsai/error.h"
#include "bonsai/sampler.h"

namespace bonsai {

namespace gguf {
class GgufFile;
}
class Tokenizer;

// Which compute backend runs the model. Auto picks Vulkan when a GPU (not a CPU implementation such
// as lavapipe) is present, else the CPU.
enum class Backend { Auto, Cpu, Vulkan };
const char* backend_name(Backend b);

struct ModelParams {
    Backend backend = Backend::Auto;  // Vulkan falls back to the CPU (one line on stderr) when unusable
    int n_threads = 0;                // threads of the CPU backend; 0 = one per physical core this process may use
    bool self_test = false;           // run self_test() during load() and keep the result
};

enum class RopeType { Norm, Neox };  // adjacent pairs (llama) / halves (qwen3, bitnet)
enum class FfnActivation { Silu, ReluSquared };

// Every shape and hyper-parameter, read from the metadata and checked against the tensors.
struct HParams {
    std::string arch;            // general.architecture as written
    int64_t n_vocab = 0;         // rows of token_embd.weight
    int64_t n_ctx_train = 0;     // <arch>.context_length
    int64_t n_embd = 0;          // <arch>.embedding_length
    int64_t n_layer = 0;         // <arch>.block_count
    int64_t n_head = 0;          // <arch>.attention.head_count
    int64_t n_head_kv = 0;       // <arch>.attention.head_count_kv (default n_head)
    int64_t head_dim = 0;        // <arch>.attention.key_length (default n_embd / n_head)
    int64_t head_dim_v = 0;      // <arch>.attention.value_length (default head_dim)
    int64_t n_ff = 0;            // <arch>.feed_forward_length
    int64_t n_rot = 0;           // <arch>.rope.dimension_count (default head_dim)
    float rope_freq_base = 10000.0f;  // <arch>.rope.freq_base
    float rope_freq_scale = 1.0f;     // 1 / <arch>.rope.scaling.factor for linear scaling
    float rms_eps = 1e-6f;       // <arch>.attention.layer_norm_rms_epsilon
    RopeType rope_type = RopeType::Neox;
    FfnActivation ffn_act = FfnActivation::Silu;
    bool qk_norm = false;        // qwen3: per-head RMSNorm of q and k
    bool sub_norms = false;      // bitnet: attn_sub_norm / ffn_sub_norm
    bool tied_output = false;    // token_embd.weight is the LM head
};

// Outcome of the known-answer self test (Model::self_test()).
struct SelfTestResult {
    bool ran = false;            // false when no tokenizer was available
    bool passed = false;         // finite, not constant, perplexity well below the vocabulary size
    bool synthetic = false;      // the file says general.synthetic = true (random weights by design)
    bool finite = false;         // every logit finite
    bool constant = false;       // every position produced the same logits
    double perplexity = 0.0;     // over the fixed passage
    int64_t n_tokens = 0;        // tokens of the passage
    std::string message;         // one line for the user (a warning when !passed)
};

namespace model_detail {
struct ModelImpl;
}

class Model {
public:
    // Opens, validates and prepares `path`. Throws bonsai::Error naming what is wrong: missing or
    // inconsistent metadata, a missing tensor, a tensor of the wrong shape or type.
    static std::unique_ptr<Model> load(const std::string& path, const ModelParams& params = {});
    // Same over an already opened file (tests build models in memory with gguf::GgufWriter).
    static std::unique_ptr<Model> from_file(std::unique_ptr<gguf::GgufFile> file, const ModelParams& params = {});
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const HParams& hparams() const;
    int64_t n_vocab() const;
    const std::string& architecture() const;
    const gguf::GgufFile& file() const;
    // The vocabulary and BPE tokenizer of the file; nullptr when the file carries none.
    const Tokenizer* tokenizer() const;
    // general.synthetic = true (bonsai-cli synth output).
    bool is_synthetic() const;
    // The backend actually in use (never Auto).
    Backend backend() const;
    int n_threads() const;
    // Sampling defaults: general.sampling.* keys if present, else formats.md §6 values.
    SamplingParams default_sampling() const;
    // Bytes a decode step reads, averaged over n_gen tokens decoded after `context` cached ones (the
    // decode roofline of `bonsai-cli bench`): every tensor of the file once, except that a model with
    // its own output matrix reads one row of token_embd (a tied one reads all of it, as the output
    // matrix), plus the f16 K and V rows attended to (context + n_gen / 2 + 0.5 positions on average).
    double decode_bytes_per_token(int64_t context, int64_t n_gen) const;

    // Runs the known-answer check: logits over a fixed English passage must be finite, not constant,
    // and give a perplexity well below the vocabulary size. Never throws for a bad model: the result
    // says what failed. The result of the check run by load() (ModelParams::self_test) is cached.
    SelfTestResult self_test();
    const SelfTestResult* last_self_test() const;

    // Internal (Session, tests): the implementation with the weights and forward pass.
    model_detail::ModelImpl& impl() { return *impl_; }

private:
    Model();
    void attach_tokenizer();  // builds the tokenizer from the file's tokenizer.* keys when present
    std::unique_ptr<model_detail::ModelImpl> impl_;
};

}  // namespace bonsai
