// Fuzz target: the OpenAI server's request parsing (app/server/request_parser.h), both endpoints.
//
// Invariants for any body: only RequestError escapes, always with status 400; an accepted request
// is within the documented bounds (non-empty conversation of known roles, sampling values in range,
// 1 <= max_tokens <= the server limit, at most 4 stop strings).
#include <exception>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "request_parser.h"

namespace {

constexpr const char* kTarget = "server_request";

bonsai::server::RequestDefaults defaults() {
    bonsai::server::RequestDefaults d;
    d.seed = 7;
    d.default_max_tokens = 512;
    d.max_tokens_limit = 4096;
    return d;
}

void check_common(const bonsai::server::ParsedRequest& r, const bonsai::server::RequestDefaults& d) {
    const auto& s = r.sampling;
    BONSAI_FUZZ_CHECK(kTarget, s.temperature >= 0.0f && s.temperature <= 2.0f, "temperature out of range");
    BONSAI_FUZZ_CHECK(kTarget, s.top_p >= 0.0f && s.top_p <= 1.0f, "top_p out of range");
    BONSAI_FUZZ_CHECK(kTarget, s.top_k >= 0 && s.top_k <= 1000000, "top_k out of range");
    BONSAI_FUZZ_CHECK(kTarget, s.min_p >= 0.0f && s.min_p <= 1.0f, "min_p out of range");
    BONSAI_FUZZ_CHECK(kTarget, s.presence_penalty >= -2.0f && s.presence_penalty <= 2.0f, "presence_penalty out of range");
    BONSAI_FUZZ_CHECK(kTarget, s.frequency_penalty >= -2.0f && s.frequency_penalty <= 2.0f, "frequency_penalty out of range");
    BONSAI_FUZZ_CHECK(kTarget, r.options.max_tokens >= 1 && r.options.max_tokens <= d.max_tokens_limit, "max_tokens out of range");
    BONSAI_FUZZ_CHECK(kTarget, r.options.stop_strings.size() <= 4, "more than 4 stop strings");
}

template <typename Fn>
void run(Fn&& parse, bool chat) {
    const auto d = defaults();
    try {
        const bonsai::server::ParsedRequest r = parse(d);
        check_common(r, d);
        if (chat) {
            BONSAI_FUZZ_CHECK(kTarget, !r.messages.empty(), "accepted a chat request without messages");
            for (const auto& m : r.messages)
                BONSAI_FUZZ_CHECK(kTarget, m.role == "system" || m.role == "user" || m.role == "assistant" || m.role == "tool",
                                  "accepted role '" + m.role + "'");
        }
    } catch (const bonsai::server::RequestError& e) {
        BONSAI_FUZZ_CHECK(kTarget, e.status == 400, "a request error with status " + std::to_string(e.status));
        BONSAI_FUZZ_CHECK(kTarget, !e.message.empty(), "a request error without a message");
    } catch (const std::exception& e) {
        bonsai::fuzz::fail(kTarget, std::string(chat ? "chat" : "completion") + " parsing threw a non-RequestError: " + e.what());
    }
}

}  // namespace

int bonsai_fuzz_server_request(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    run([&](const auto& d) { return bonsai::server::parse_chat_request(body, d); }, true);
    run([&](const auto& d) { return bonsai::server::parse_completion_request(body, d); }, false);
    return 0;
}

BONSAI_FUZZ_ENTRY(bonsai_fuzz_server_request)
