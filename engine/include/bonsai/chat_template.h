#pragma once
// Chat templates: a small, sandboxed interpreter for the Jinja2 subset used by models'
// `tokenizer.chat_template`, written to render byte-identically to Python jinja2 3.1 configured the
// way Hugging Face transformers does it (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// loop controls, the `generation` tag, default Undefined, HF's tojson, raise_exception, strftime_now).
//
// Sandbox: a template can do no I/O at all (no include/import/extends, no file or environment
// access); it only sees the variables passed to render(). Work, output size and nesting depth are
// bounded by TemplateLimits; exceeding one throws TemplateError naming the limit.
//
// Variables are passed as nlohmann::ordered_json (not nlohmann::json) because key order is visible in
// the output (tojson of tool schemas, `for k, v in d|items`) and Python dicts keep insertion order.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bonsai/error.h"

namespace bonsai {

// Thrown for every template failure: syntax errors (with line/column), runtime type errors,
// undefined-variable misuse, limits exceeded, and the template's own raise_exception(msg).
class TemplateError : public Error {
public:
    // `message` is the full what() text. `line`/`column` are 1-based (0 = unknown).
    // `raised_by_template` is true only for raise_exception(msg); then what() is exactly msg, so an
    // application can show the template author's message unchanged.
    TemplateError(const std::string& message, int line, int column, bool raised_by_template)
        : Error(message), line_(line), column_(column), raised_(raised_by_template) {}
    int line() const { return line_; }
    int column() const { return column_; }
    bool raised_by_template() const { return raised_; }

private:
    int line_;
    int column_;
    bool raised_;
};

// Bounds on one render. The defaults are far above what any real chat template needs (a long
// conversation with the gpt-oss template takes a few tens of thousands of steps) while keeping a
// hostile template from looping, allocating or recursing without bound.
struct TemplateLimits {
    // Evaluation steps: one per statement executed, expression node evaluated and loop iteration.
    std::uint64_t max_steps = 10'000'000;
    // Largest output, and largest single string/list value built while rendering (bytes / items).
    std::size_t max_output_bytes = 16u << 20;
    // Deepest nesting of macro calls, call blocks and nested data (lists in dicts in ...).
    int max_recursion_depth = 128;
};

// Everything render() may be given besides the variables.
struct RenderOptions {
    TemplateLimits limits;
    // Local wall-clock time seen by strftime_now(fmt). Empty = the real local time. Tests inject
    // a fixed time (the fixtures were rendered at 2026-11-26 00:00:00).
    std::function<std::tm()> clock;
};

// A parsed template. Cheap to copy (the syntax tree is shared and immutable); render() is const and
// may be called from several threads at once.
class ChatTemplate {
public:
    // Parses `source`. Throws TemplateError "template syntax error at line L, column C: ..." for
    // malformed input; never crashes on any byte sequence.
    static ChatTemplate parse(std::string_view source);

    // Renders with `variables` (a JSON object; each key becomes a template variable). Throws
    // TemplateError on a template error, raise_exception(), or a limit.
    std::string render(const nlohmann::ordered_json& variables, const TemplateLimits& limits = {}) const;
    std::string render(const nlohmann::ordered_json& variables, const RenderOptions& options) const;

    struct Impl;

private:
    explicit ChatTemplate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

// One conversation turn as the app stores it.
struct ChatMessage {
    std::string role;     // "system", "user", "assistant" or "tool"
    std::string content;  // plain text
};

// What render_chat passes to the template, mirroring transformers' apply_chat_template.
struct ChatRenderRequest {
    std::vector<ChatMessage> messages;
    bool add_generation_prompt = true;
    std::optional<std::string> bos_token;  // passed only when set (templates test `is defined`)
    std::optional<std::string> eos_token;
    // Extra variables (e.g. {"enable_thinking": false}); they override the standard ones.
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

// Renders `template_source` with messages, tools=None, documents=None, add_generation_prompt,
// bos/eos tokens and `extra`. A template that fails with tools=None for a reason other than
// raise_exception (e.g. Hermes' `for tool in tools`) is rendered once more with tools=[], as the
// reference fixtures do. Throws TemplateError.
std::string render_chat(std::string_view template_source, const ChatRenderRequest& request,
                        const RenderOptions& options = {});

// The standard ChatML prompt, used when a model has no chat template:
// "<|im_start|>{role}\n{content}<|im_end|>\n" per message, then "<|im_start|>assistant\n" if asked.
std::string render_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt);

}  // namespace bonsai
