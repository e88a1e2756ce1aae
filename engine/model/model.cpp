// bonsai::Model: loading, validation and the architecture-independent part of the forward pass.
#include <algorithm>
#include <cstdio>

#include "backend/cpu/cpu_topology.h"
#include "bonsai/gguf.h"
#include "model/hparams.h"
#include "model/model_impl.h"

namespace bonsai {

const char* backend_name(Backend b) {
    switch (b) {
        case Backend::Auto: return "auto";
        case Backend::Cpu: return "cpu";
        case Backend::Vulkan: return "vulkan";
    }
    return "?";
}

namespace model_detail {

void bind_common(const TensorBinder& b, const HParams& hp, Weights& w) {
    w.tok_embd = &b.require("token_embd.weight", {hp.n_embd, hp.n_vocab});
    if (w.tok_embd->type == TensorType::I2_S)
        throw Error("tensor 'token_embd.weight': I2_S embeddings are not supported");
    w.output_norm = b.vec("output_norm.weight", hp.n_embd);
    w.output = hp.tied_output ? b.linear_from(*w.tok_embd) : b.linear("output", hp.n_embd, hp.n_vocab);
}

void ModelImpl::forward(const int32_t* tokens, int64_t n, int64_t pos0, KvCache& kv, ForwardState& st, bool all_logits) {
    if (n <= 0) throw Error("forward: no tokens");
    if (pos0 < 0 || pos0 + n > kv.n_ctx()) throw Error("forward: positions exceed the context window");
    const int64_t E = hp.n_embd, V = hp.n_vocab;
    st.reserve(hp, n);
    const size_t row_bytes = row_nbytes(w.tok_embd->type, E);
    for (int64_t t = 0; t < n; ++t) {
        const int32_t id = tokens[t];
        if (id < 0 || id >= V)
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(V - 1) + ")");
        dequantize(w.tok_embd->type, w.tok_embd->data + row_bytes * static_cast<size_t>(id), st.x.data() + t * E, E);
    }
    for (int64_t il = 0; il < hp.n_layer; ++il) ops->layer(hp, w, il, st, n, pos0, kv, *pool);
    const int64_t rows = all_logits ? n : 1;
    const float* src = st.x.data() + (n - rows) * E;
    rms_norm(src, w.output_norm.data(), st.xn.data(), rows, E, hp.rms_eps, pool.get());
    st.logits.resize(static_cast<size_t>(rows * V));
    st.logits_rows = rows;
    linear(w.output, st.xn.data(), rows, st.logits.data(), *pool, st.acts);
}

}  // namespace model_detail

Model::Model() : impl_(std::make_unique<model_detail::ModelImpl>()) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& path, const ModelParams& params) {
    return from_file(gguf::GgufFile::open(path), params);
}

std::unique_ptr<Model> Model::from_file(std::unique_ptr<gguf::GgufFile> file, const ModelParams& params) {
    if (!file) throw Error("Model::from_file: no file");
    std::unique_ptr<Model> m(new Model());
    model_detail::ModelImpl& im = *m->impl_;
    im.file = std::move(file);
    const std::string where = im.file->path();
    try {
        im.hp = model_detail::parse_hparams(*im.file);
        switch (model_detail::arch_kind(im.hp.arch)) {
            case model_detail::ArchKind::Qwen3: im.ops = &model_detail::qwen3_ops(); break;
            case model_detail::ArchKind::Llama: im.ops = &model_detail::llama_ops(); break;
            case model_detail::ArchKind::Bitnet: im.ops = &model_detail::bitnet_ops(); break;
        }
        model_detail::TensorBinder binder(*im.file);
        im.ops->bind(binder, im.hp, im.w);
        im.synthetic = im.file->get_bool("general.synthetic").value_or(false);
        (void)SamplingParams::from_gguf(*im.file);  // reject malformed sampling keys at load time
    } catch (const Error& e) {
        throw Error(where + ": " + e.what());
    }
    im.backend = Backend::Cpu;
    // Vulkan when asked for, or for Auto when a real GPU exists (lavapipe is slower than our CPU path).
    // Any failure (no device, unsupported tensor, out of device memory) falls back to the CPU.
    if (params.backend == Backend::Vulkan ||
        (params.backend == Backend::Auto && model_detail::vulkan_gpu_available())) {
        try {
            im.vk = model_detail::VulkanModel::create(im.hp, im.w, *im.file);
            im.backend = Backend::Vulkan;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bonsai: Vulkan backend not used (%s); running on the CPU\n", e.what());
        }
    }
    int n = params.n_threads;
    if (n <= 0) n = cpu::default_thread_count();  // one per physical core the process may use (cpu_topology.h)
    im.pool = std::make_unique<cpu::ThreadPool>(std::min(n, 256));
    m->attach_tokenizer();
    if (params.self_test) m->self_test();
    return m;
}

const HParams& Model::hparams() const { return impl_->hp; }
int64_t Model::n_vocab() const { return impl_->hp.n_vocab; }
const std::string& Model::architecture() const { return impl_->hp.arch; }
const gguf::GgufFile& Model::file() const { return *impl_->file; }

double Model::decode_bytes_per_token(int64_t context, int64_t n_gen) const {
    const HParams& hp = impl_->hp;
    double weight_bytes = 0;
    bool untied = false;
    for (const auto& t : file().tensors()) untied = untied || t.name == "output.weight";
    for (const auto& t : file().tensors()) {
        const bool embd = t.name == "token_embd.weight";
        weight_bytes += embd && untied ? static_cast<double>(t.nbytes) / static_cast<double>(std::max<int64_t>(1, hp.n_vocab))
                                       : static_cast<double>(t.nbytes);
    }
    const double kv_bytes = 2.0 * static_cast<double>(hp.n_layer * hp.n_head_kv * hp.head_dim) * 2.0 *
                            (static_cast<double>(context) + static_cast<double>(n_gen) / 2.0 + 0.5);
    return weight_bytes + kv_bytes;
}
const Tokenizer* Model::tokenizer() const { return impl_->tokenizer.get(); }
bool Model::is_synthetic() const { return impl_->synthetic; }
Backend Model::backend() const { return impl_->backend; }
int Model::n_threads() const { return impl_->pool->size(); }
SamplingParams Model::default_sampling() const { return SamplingParams::from_gguf(*impl_->file); }
const SelfTestResult* Model::last_self_test() const { return impl_->self_test ? &*impl_->self_test : nullptr; }

}  // namespace bonsai
