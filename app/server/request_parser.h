#pragma once
// Request-body parsing for the OpenAI-compatible server: the JSON of POST /v1/chat/completions and
// POST /v1/completions -> what a generation job needs. Pure functions with no side effects: no model,
// no I/O, no shared state (the model-dependent parts — its default sampling, the next request number —
// come in through RequestDefaults). openai_server.cpp uses them; the fuzz target
// tests/fuzz/fuzz_server_request.cpp feeds them arbitrary bytes.
//
// Every problem with the request throws RequestError (never another exception type), which the server
// turns into an OpenAI-style error body with that HTTP status.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/chat_template.h"
#include "bonsai/sampler.h"
#include "bonsai/session.h"

namespace bonsai::server {

// An error the client caused (or, for status >= 500, the server): becomes an OpenAI-style error body.
struct RequestError {
    int status;                                  // HTTP status, e.g. 400
    std::string message;                         // error.message
    std::string type = "invalid_request_error";  // error.type
    std::string code;                            // error.code (empty = null)
    std::string param;                           // error.param: the offending field (empty = null)
};

// What the parser needs to know about the server and the model.
struct RequestDefaults {
    SamplingParams sampling;           // the model's default sampling (fields the request omits keep these)
    uint64_t seed = 0;                 // the seed when the request has none
    int64_t default_max_tokens = 512;  // max_tokens when the request has none
    int64_t max_tokens_limit = 4096;   // a larger max_tokens / max_completion_tokens is a 400
};

// A validated request.
struct ParsedRequest {
    std::vector<ChatMessage> messages;  // chat: the conversation, "developer" already mapped to "system"
    std::string prompt;                 // completion: the prompt text (may be empty; the server decides)
    SamplingParams sampling;            // defaults overridden by temperature, top_p, top_k, min_p, penalties
    uint64_t seed = 0;                  // "seed" (negative values wrap to uint64) or the default
    GenerateOptions options;            // max_tokens and the request's "stop" strings (at most 4)
    bool stream = false;                // "stream"
    bool include_usage = false;         // "stream_options": {"include_usage": true}
};

// Parses a /v1/chat/completions body: a JSON object with a non-empty "messages" array of
// {role: system|developer|user|assistant|tool, content: string | null | [{type: "text", text}]}, plus the
// common fields. Throws RequestError (400) naming the field.
ParsedRequest parse_chat_request(std::string_view body, const RequestDefaults& defaults);

// Parses a /v1/completions body: a JSON object with a string "prompt", plus the common fields.
// Throws RequestError (400) naming the field.
ParsedRequest parse_completion_request(std::string_view body, const RequestDefaults& defaults);

}  // namespace bonsai::server
