#pragma once
// The two vocabulary questions a Session asks while generating. They go through the model's
// tokenizer when it has one and fall back to the file's metadata otherwise.
#include <cstdint>
#include <string>

#include "bonsai/model.h"

namespace bonsai::model_detail {

// The bytes token `id` contributes to generated text ("" for control tokens or without a tokenizer).
std::string token_text(const Model& model, int32_t id);
// Whether `id` ends generation (EOS/EOT/EOM ids of the metadata, or the tokenizer's EOG set).
bool token_is_eog(const Model& model, int32_t id);

}  // namespace bonsai::model_detail
