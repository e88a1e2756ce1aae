#pragma once
// Private side of bonsai::Model: the file, weights, the architecture's forward pass and the CPU pool.
#include <memory>
#include <optional>

#include "backend/cpu/thread_pool.h"
#include "bonsai/gguf.h"
#include "bonsai/model.h"
#include "model/kv_cache.h"
#include "model/layers.h"
#include "model/vulkan_forward.h"
#include "model/weights.h"

namespace bonsai::model_detail {

// What an architecture file provides.
struct ArchOps {
    const char* name;
    // Looks up and shape-checks every tensor of the architecture.
    void (*bind)(const TensorBinder& b, const HParams& hp, Weights& w);
    // One transformer layer on st.x (n_tok rows at positions pos0..), updating st.x in place.
    void (*layer)(const HParams& hp, const Weights& w, int64_t il, ForwardState& st, int64_t n_tok, int64_t pos0,
                  KvCache& kv, cpu::ThreadPool& pool);
};
const ArchOps& qwen3_ops();
const ArchOps& llama_ops();
const ArchOps& bitnet_ops();

// Binds the LM head and final norm shared by every architecture (token_embd when hp.tied_output).
void bind_common(const TensorBinder& b, const HParams& hp, Weights& w);

struct ModelImpl {
    std::unique_ptr<gguf::GgufFile> file;
    HParams hp;
    Weights w;
    const ArchOps* ops = nullptr;
    std::unique_ptr<cpu::ThreadPool> pool;
    std::shared_ptr<const Tokenizer> tokenizer;
    Backend backend = Backend::Cpu;
    std::unique_ptr<VulkanModel> vk;  // set when backend == Vulkan (weights on the device)
    bool synthetic = false;
    std::optional<SelfTestResult> self_test;

    // Runs n_tok tokens at positions pos0.. through the model, writing their K/V into `kv`. Leaves the
    // logits of every token (all_logits) or of the last one in st.logits (st.logits_rows rows).
    // Throws bonsai::Error for an id outside the vocabulary or positions beyond the cache.
    void forward(const int32_t* tokens, int64_t n_tok, int64_t pos0, KvCache& kv, ForwardState& st, bool all_logits);
};

}  // namespace bonsai::model_detail
