#pragma once
// From a conversation to the tokens a model sees: render the model's own chat template (falling back to
// ChatML with a warning when it has none or cannot be rendered), then tokenize so that special tokens
// are recognised only where the TEMPLATE wrote them — text typed by a user that contains "<|im_end|>"
// stays ordinary text.
#include <cstdint>
#include <string>
#include <vector>

#include "bonsai/chat_template.h"

namespace bonsai {

class Model;

struct ChatPrompt {
    std::string text;             // the rendered prompt
    std::vector<int32_t> tokens;  // its tokens (BOS added when the model wants one and the template did not)
    bool used_fallback = false;   // ChatML was used instead of the model's template
    std::string warning;          // why the fallback was used (empty otherwise)
};

struct ChatPromptOptions {
    bool add_generation_prompt = true;
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // e.g. {"enable_thinking": false}
};

// Throws bonsai::Error when the model has no tokenizer.
ChatPrompt build_chat_prompt(const Model& model, const std::vector<ChatMessage>& messages,
                             const ChatPromptOptions& options = {});

// The strings that end an assistant turn for this model's template besides its EOG tokens
// (e.g. "<|im_end|>" for ChatML when the vocabulary lacks it as a token). Used as stop strings.
std::vector<std::string> chat_stop_strings(const Model& model, const ChatPrompt& prompt);

}  // namespace bonsai
