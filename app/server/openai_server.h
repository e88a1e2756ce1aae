#pragma once
// The local OpenAI-compatible HTTP server behind `bonsai-cli serve`: other tools (editors, scripts,
// the official `openai` clients) use the local model through it. No Qt: cpp-httplib + the engine.
//
// Endpoints: GET /v1/models, POST /v1/chat/completions (streaming and not), POST /v1/completions.
// Loopback by default; a bearer key when configured; limits on body size and max_tokens; a bounded
// queue answering 503 + Retry-After when full; a streaming client that disconnects cancels its
// generation; malformed requests get 400 with an OpenAI-style error body.
#include <cstdint>
#include <memory>
#include <string>

namespace bonsai {
class Model;
}

namespace bonsai::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;              // 0 = any free port (see OpenAIServer::port())
    std::string api_key;          // empty = no authentication
    std::string model_id;         // the id /v1/models reports (default: the file's base name)
    int parallel = 1;             // generation slots, each with its own KV cache
    int max_queue = 16;           // requests waiting while every slot is busy; one more gets 503
    size_t max_body_bytes = 1 << 20;
    int64_t max_tokens_limit = 4096;  // a request asking for more gets 400
    int64_t default_max_tokens = 512;
    int64_t n_ctx = 4096;         // context per slot
    int http_threads = 80;        // connections served at once (waiting ones included)
};

class OpenAIServer {
public:
    OpenAIServer(Model& model, ServerOptions options);
    ~OpenAIServer();
    OpenAIServer(const OpenAIServer&) = delete;
    OpenAIServer& operator=(const OpenAIServer&) = delete;

    // Binds the socket; throws bonsai::Error when it cannot. Then serves on a background thread.
    void start();
    // Stops accepting, cancels running generations and joins every thread.
    void stop();
    // Blocks until stop() is called from another thread (or a signal handler path calls it).
    void wait();
    int port() const;

    // Counters for tests and logs.
    int64_t requests_served() const;
    int64_t requests_rejected_busy() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace bonsai::server
