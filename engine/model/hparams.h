#pragma once
// Reads and validates every hyper-parameter of a model from its GGUF metadata (formats.md §3.1, §4).
#include "bonsai/gguf.h"
#include "bonsai/model.h"

namespace bonsai::model_detail {

// Which family of forward pass an architecture string selects.
enum class ArchKind { Qwen3, Llama, Bitnet };

// Maps general.architecture to a family; throws bonsai::Error naming unsupported architectures.
ArchKind arch_kind(const std::string& arch);

// Reads <arch>.* keys, applies llama.cpp's defaults and checks ranges and consistency with
// token_embd.weight (n_vocab). Tensor shapes are checked separately by the weight binder.
HParams parse_hparams(const gguf::GgufFile& file);

}  // namespace bonsai::model_detail
