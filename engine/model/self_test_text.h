#pragma once
// The fixed English passage of the self test and its tokenization.
#include <cstdint>
#include <vector>

#include "bonsai/model.h"

namespace bonsai::model_detail {

// Plain, common English so that any real language model predicts it well.
extern const char* const kSelfTestPassage;

// The passage tokenized with the model's tokenizer (empty when the model has none).
std::vector<int32_t> self_test_tokens(const Model& model);

// Runs the check on given token ids (exposed so tests can drive it without a tokenizer).
SelfTestResult evaluate_self_test(Model& model, const std::vector<int32_t>& ids);

}  // namespace bonsai::model_detail
