#include "request_parser.h"

#include <nlohmann/json.hpp>

namespace bonsai::server {

using json = nlohmann::json;

namespace {

json parse_body(std::string_view text) {
    json body = json::parse(text, nullptr, false);
    if (body.is_discarded()) throw RequestError{400, "the request body is not valid JSON", "invalid_request_error"};
    if (!body.is_object()) throw RequestError{400, "the request body must be a JSON object", "invalid_request_error"};
    return body;
}

double number_in(const json& body, const char* key, double lo, double hi, double fallback) {
    if (!body.contains(key) || body[key].is_null()) return fallback;
    if (!body[key].is_number()) throw RequestError{400, std::string("'") + key + "' must be a number", "invalid_request_error", "", key};
    const double v = body[key].get<double>();
    if (!(v >= lo && v <= hi))
        throw RequestError{400, std::string("'") + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi),
                           "invalid_request_error", "", key};
    return v;
}

// A boolean field (absent or null = false). A value of another type is the client's error (400).
bool flag(const json& object, const char* key, const char* where) {
    if (!object.contains(key) || object[key].is_null()) return false;
    if (!object[key].is_boolean())
        throw RequestError{400, std::string("'") + where + "' must be a boolean", "invalid_request_error", "", where};
    return object[key].get<bool>();
}

// Fields shared by both endpoints: sampling, seed, max_tokens, stop, n, stream.
void parse_common(const json& body, const RequestDefaults& d, ParsedRequest& r) {
    SamplingParams s = d.sampling;
    s.temperature = static_cast<float>(number_in(body, "temperature", 0.0, 2.0, s.temperature));
    s.top_p = static_cast<float>(number_in(body, "top_p", 0.0, 1.0, s.top_p));
    s.top_k = static_cast<int32_t>(number_in(body, "top_k", 0, 1e6, s.top_k));
    s.min_p = static_cast<float>(number_in(body, "min_p", 0.0, 1.0, s.min_p));
    s.presence_penalty = static_cast<float>(number_in(body, "presence_penalty", -2.0, 2.0, s.presence_penalty));
    s.frequency_penalty = static_cast<float>(number_in(body, "frequency_penalty", -2.0, 2.0, s.frequency_penalty));
    r.sampling = s;
    // Through int64: converting a negative double straight to uint64 is undefined behaviour.
    const double seed = number_in(body, "seed", -9.2e18, 9.2e18, static_cast<double>(d.seed));
    r.seed = body.contains("seed") && !body["seed"].is_null() ? static_cast<uint64_t>(static_cast<int64_t>(seed)) : d.seed;
    double max_tokens = static_cast<double>(d.default_max_tokens);
    if (body.contains("max_completion_tokens") && !body["max_completion_tokens"].is_null())
        max_tokens = number_in(body, "max_completion_tokens", 1, 1e12, max_tokens);
    else
        max_tokens = number_in(body, "max_tokens", 1, 1e12, max_tokens);
    if (max_tokens > static_cast<double>(d.max_tokens_limit))
        throw RequestError{400, "'max_tokens' is larger than this server's limit of " + std::to_string(d.max_tokens_limit),
                           "invalid_request_error", "", "max_tokens"};
    r.options.max_tokens = static_cast<int64_t>(max_tokens);
    if (body.contains("stop") && !body["stop"].is_null()) {
        const json& st = body["stop"];
        if (st.is_string()) {
            r.options.stop_strings.push_back(st.get<std::string>());
        } else if (st.is_array() && st.size() <= 4) {
            for (const json& v : st) {
                if (!v.is_string()) throw RequestError{400, "'stop' must be a string or an array of up to 4 strings", "invalid_request_error", "", "stop"};
                r.options.stop_strings.push_back(v.get<std::string>());
            }
        } else {
            throw RequestError{400, "'stop' must be a string or an array of up to 4 strings", "invalid_request_error", "", "stop"};
        }
    }
    if (body.contains("n") && !body["n"].is_null() && !(body["n"].is_number_integer() && body["n"].get<int64_t>() == 1))
        throw RequestError{400, "only n = 1 is supported", "invalid_request_error", "", "n"};
    r.stream = flag(body, "stream", "stream");
    if (body.contains("stream_options") && body["stream_options"].is_object())
        r.include_usage = flag(body["stream_options"], "include_usage", "stream_options.include_usage");
}

std::string content_text(const json& content, size_t i) {
    if (content.is_string()) return content.get<std::string>();
    if (content.is_null()) return std::string();
    if (content.is_array()) {
        std::string text;
        for (const json& part : content) {
            if (part.is_object() && part.contains("type") && part["type"].is_string() && part["type"].get<std::string>() == "text" &&
                part.contains("text") && part["text"].is_string())
                text += part["text"].get<std::string>();
            else
                throw RequestError{400, "messages[" + std::to_string(i) + "].content: only text parts are supported",
                                   "invalid_request_error", "", "messages"};
        }
        return text;
    }
    throw RequestError{400, "messages[" + std::to_string(i) + "].content must be a string or an array of parts",
                       "invalid_request_error", "", "messages"};
}

}  // namespace

ParsedRequest parse_chat_request(std::string_view text, const RequestDefaults& defaults) {
    const json body = parse_body(text);
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
        throw RequestError{400, "'messages' must be a non-empty array", "invalid_request_error", "", "messages"};
    ParsedRequest r;
    size_t i = 0;
    for (const json& m : body["messages"]) {
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
            throw RequestError{400, "messages[" + std::to_string(i) + "] must be an object with a string 'role'",
                               "invalid_request_error", "", "messages"};
        std::string role = m["role"].get<std::string>();
        if (role == "developer") role = "system";
        if (role != "system" && role != "user" && role != "assistant" && role != "tool")
            throw RequestError{400, "messages[" + std::to_string(i) + "].role '" + role + "' is not supported",
                               "invalid_request_error", "", "messages"};
        r.messages.push_back({role, content_text(m.contains("content") ? m["content"] : json(nullptr), i)});
        ++i;
    }
    parse_common(body, defaults, r);
    return r;
}

ParsedRequest parse_completion_request(std::string_view text, const RequestDefaults& defaults) {
    const json body = parse_body(text);
    if (!body.contains("prompt") || !body["prompt"].is_string())
        throw RequestError{400, "'prompt' must be a string", "invalid_request_error", "", "prompt"};
    ParsedRequest r;
    r.prompt = body["prompt"].get<std::string>();
    parse_common(body, defaults, r);
    return r;
}

}  // namespace bonsai::server
