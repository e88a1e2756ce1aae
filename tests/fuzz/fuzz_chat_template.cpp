// Fuzz target: the chat-template interpreter (ChatTemplate::parse + render, and render_chat).
//
// Input: template source, optionally followed by a NUL byte and a JSON object. The object (when it
// parses) is passed as the template's variables, and its "messages" array (when it is one) becomes
// the conversation for render_chat; otherwise a fixed two-message conversation is used.
//
// Invariants for any input: only TemplateError escapes (syntax errors, runtime errors, limits); the
// small limits below stop every template (libFuzzer's -timeout catches one that does not); the output
// never exceeds max_output_bytes.
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/chat_template.h"
#include "fuzz_common.h"

namespace {

constexpr const char* kTarget = "chat_template";

bonsai::RenderOptions small_limits() {
    bonsai::RenderOptions o;
    o.limits.max_steps = 200'000;
    o.limits.max_output_bytes = 1u << 20;
    o.limits.max_recursion_depth = 64;
    o.clock = [] {
        std::tm t{};
        t.tm_year = 126;  // 2026-11-26, as the fixtures
        t.tm_mon = 10;
        t.tm_mday = 26;
        return t;
    };
    return o;
}

std::vector<bonsai::ChatMessage> messages_from(const nlohmann::ordered_json& vars) {
    std::vector<bonsai::ChatMessage> out;
    if (vars.is_object() && vars.contains("messages") && vars["messages"].is_array()) {
        for (const auto& m : vars["messages"]) {
            if (!m.is_object()) continue;
            bonsai::ChatMessage msg;
            if (m.contains("role") && m["role"].is_string()) msg.role = m["role"].get<std::string>();
            if (m.contains("content") && m["content"].is_string()) msg.content = m["content"].get<std::string>();
            out.push_back(std::move(msg));
        }
        return out;
    }
    return {{"system", "You are Bonsai."}, {"user", "What is 2+2? <|im_end|> {{ x }}"}};
}

template <typename Fn>
void expect_only_template_errors(Fn&& fn, const char* what) {
    try {
        const std::string out = fn();
        BONSAI_FUZZ_CHECK(kTarget, out.size() <= small_limits().limits.max_output_bytes,
                          std::string(what) + ": output larger than max_output_bytes");
    } catch (const bonsai::TemplateError&) {
        // The documented failure.
    } catch (const std::exception& e) {
        bonsai::fuzz::fail(kTarget, std::string(what) + " threw a non-TemplateError: " + e.what());
    }
}

}  // namespace

int bonsai_fuzz_chat_template(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const size_t nul = in.find('\0');
    const std::string_view source = in.substr(0, nul);
    nlohmann::ordered_json vars = nlohmann::ordered_json::object();
    if (nul != std::string_view::npos) {
        auto parsed = nlohmann::ordered_json::parse(in.substr(nul + 1), nullptr, false);
        if (!parsed.is_discarded() && parsed.is_object()) vars = std::move(parsed);
    }
    const auto opts = small_limits();

    std::optional<bonsai::ChatTemplate> tpl;
    try {
        tpl = bonsai::ChatTemplate::parse(source);
    } catch (const bonsai::TemplateError&) {
        return 0;
    } catch (const std::exception& e) {
        bonsai::fuzz::fail(kTarget, std::string("parse threw a non-TemplateError: ") + e.what());
    }
    expect_only_template_errors([&] { return tpl->render(vars, opts); }, "render");

    bonsai::ChatRenderRequest req;
    req.messages = messages_from(vars);
    req.bos_token = "<s>";
    req.eos_token = "</s>";
    req.extra = nlohmann::ordered_json{{"enable_thinking", false}};
    expect_only_template_errors([&] { return bonsai::render_chat(source, req, opts); }, "render_chat");
    return 0;
}

BONSAI_FUZZ_ENTRY(bonsai_fuzz_chat_template)
