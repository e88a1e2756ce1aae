#pragma once
// The forward pass on the Vulkan backend (docs/vulkan.md "Model forward pass"): weights uploaded once
// to device-local memory, the KV cache and every activation kept on the device, one command buffer
// (one submit) per forward call — a decode step or a prompt batch. The CPU only dequantizes the few
// token-embedding rows of the call and reads the logits back.
//
// Supported: qwen3, llama and llama.cpp's "bitnet" dialect with SiLU gates, plain RoPE (no
// rope_freqs, no linear scaling) and weight types VulkanBackend::supports_matvec() accepts. Anything
// else makes create() throw, and the model falls back to the CPU backend.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bonsai/gguf.h"
#include "bonsai/model.h"
#include "bonsai/vulkan_backend.h"
#include "model/layers.h"
#include "model/weights.h"

namespace bonsai::model_detail {

// True when a suitable Vulkan device that is not a CPU implementation (lavapipe) exists: what
// Backend::Auto needs to prefer Vulkan. Computed once per process; never throws.
bool vulkan_gpu_available();

// Device state of one Session: the f16 KV cache (one K and one V buffer per layer, [pos][kv_dim])
// and scratch activations sized for the largest batch seen so far. Must be destroyed before the
// VulkanModel that created it (a Session never outlives its Model).
struct VulkanSessionState {
    int64_t n_ctx = 0;
    std::vector<VulkanBuffer> k, v;  // per layer: n_ctx x kv_dim f16
    VulkanBuffer att_scratch;        // split-KV attention partials: n_head x att_splits x (head_dim + 2) floats
    int64_t att_splits = 1;          // splits att_scratch holds (vulkan_forward.cpp picks the split length to fit)
    int64_t cap = 0;                 // tokens the scratch buffers below hold
    VulkanBuffer in, pos;            // host visible: embedded input rows (cap x n_embd floats), positions (int32)
    VulkanBuffer x, xn, q, att, tmp, g, u;  // device local activations (see forward()); q holds q|k|v
    VulkanBuffer xq;                 // device local: the int8-quantized input of an I2_S projection
    VulkanBuffer xh;                 // device local: a prompt's matmul input as f16 (cap x max(n_embd, n_ff)
                                     // halves) for tiles that read f16 (add_rms_norm, swiglu); empty on
                                     // devices without tensor-core tiles
    VulkanBuffer xr;                 // device local: a decode step's vectors rounded by the op that wrote them
                                     // for the next matvec (VulkanMatvecRounding): the residual stream and
                                     // the SwiGLU output (Impl::rounded_at)
    int64_t logits_cap = 0;          // rows the logits buffer holds
    VulkanBuffer logits;             // host visible: logits_cap x n_vocab floats
    VulkanBuffer logits_dev;         // device local, same size: the LM head writes here, one copy moves
                                     // them to `logits` (an H100 took ~150 us per 151,936-wide row when
                                     // the shader wrote host memory directly)
};

class VulkanModel {
public:
    // Opens the device (VulkanBackend::Options::from_environment()), checks that every tensor and
    // hyper-parameter is supported and uploads the weights. The bytes come from `file` (the GGUF block
    // layout), not from Linear::w.data, which the CPU backend may have repacked. Throws bonsai::Error
    // naming the cause.
    static std::unique_ptr<VulkanModel> create(const HParams& hp, const Weights& w, const gguf::GgufFile& file);
    ~VulkanModel();
    VulkanModel(const VulkanModel&) = delete;
    VulkanModel& operator=(const VulkanModel&) = delete;

    // "NVIDIA H100 80GB HBM3 (discrete)".
    std::string device_description() const;
    // Allocates a session's KV cache for n_ctx positions. Throws bonsai::Error (out of device memory,
    // buffer too large for the device).
    std::unique_ptr<VulkanSessionState> new_session(int64_t n_ctx);
    // Same contract as ModelImpl::forward (logits into st.logits / st.logits_rows), with the KV cache
    // of `s`. Thread-safe (one forward at a time per model: the backend records into one command buffer).
    // `pool` (optional) dequantizes the embedding rows of a prompt batch on the CPU threads.
    void forward(const int32_t* tokens, int64_t n_tok, int64_t pos0, VulkanSessionState& s, ForwardState& st,
                 bool all_logits, cpu::ThreadPool* pool = nullptr);

    struct Impl;

private:
    VulkanModel();
    std::unique_ptr<Impl> impl_;
};

}  // namespace bonsai::model_detail
