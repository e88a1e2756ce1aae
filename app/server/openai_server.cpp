#include "openai_server.h"

#include "request_parser.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "bonsai/chat.h"
#include "bonsai/error.h"
#include "bonsai/gguf.h"
#include "bonsai/model.h"
#include "bonsai/session.h"
#include "bonsai/tokenizer.h"

namespace bonsai::server {

using json = nlohmann::json;

namespace {

json error_body(const RequestError& e) {
    return json{{"error", {{"message", e.message},
                           {"type", e.type},
                           {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                           {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One generation request, shared by the HTTP thread that streams it and the slot that runs it.
struct Job {
    std::vector<int32_t> prompt;
    GenerateOptions options;
    SamplingParams sampling;
    uint64_t seed = 0;

    std::mutex m;
    std::condition_variable cv;
    std::deque<std::string> pieces;  // text not yet sent
    bool started = false;
    bool done = false;
    GenerationResult result;
    std::string error;
    std::atomic<bool> cancelled{false};
    Session* session = nullptr;  // set while running, under m

    void cancel() {
        cancelled = true;
        std::lock_guard<std::mutex> lock(m);
        if (session) session->cancel();
    }
};

}  // namespace

struct OpenAIServer::Impl {
    Model& model;
    ServerOptions opt;
    httplib::Server http;
    std::thread listener;
    std::vector<std::thread> slots;
    std::mutex qm;
    std::condition_variable qcv;
    std::deque<std::shared_ptr<Job>> queue;
    int running = 0;
    bool stopping = false;
    std::mutex compute;  // one forward pass at a time over the shared weights
    std::atomic<int64_t> served{0}, rejected{0}, next_id{1};
    std::mutex stop_m;
    std::condition_variable stop_cv;
    bool stopped = false;
    int bound_port = 0;
    socket_t listen_fd = -1;

    Impl(Model& m, ServerOptions o) : model(m), opt(std::move(o)) {
        if (opt.model_id.empty()) opt.model_id = std::filesystem::path(model.file().path()).stem().string();
        if (opt.parallel < 1) opt.parallel = 1;
    }

    void slot_main() {
        Session session(model, SessionParams{opt.n_ctx, 0, model.default_sampling(), 512});
        while (true) {
            std::shared_ptr<Job> job;
            {
                std::unique_lock<std::mutex> lock(qm);
                qcv.wait(lock, [&] { return stopping || !queue.empty(); });
                if (stopping) return;
                job = queue.front();
                queue.pop_front();
                ++running;
            }
            run_job(session, *job);
            std::lock_guard<std::mutex> lock(qm);
            --running;
        }
    }

    void run_job(Session& session, Job& job) {
        {
            std::lock_guard<std::mutex> lock(job.m);
            job.session = &session;
            job.started = true;
        }
        try {
            if (job.cancelled) throw Error("cancelled");
            std::lock_guard<std::mutex> compute_lock(compute);
            session.set_sampling(job.sampling, job.seed);
            job.result = session.generate(job.prompt, job.options, [&](int32_t, std::string_view text) {
                if (job.cancelled) return false;
                if (!text.empty()) {
                    std::lock_guard<std::mutex> lock(job.m);
                    job.pieces.emplace_back(text);
                    job.cv.notify_all();
                }
                return true;
            });
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(job.m);
            job.error = e.what();
        }
        std::lock_guard<std::mutex> lock(job.m);
        job.session = nullptr;
        job.done = true;
        job.cv.notify_all();
    }

    // Queues a job or throws 503 when the queue is full.
    void submit(const std::shared_ptr<Job>& job) {
        std::lock_guard<std::mutex> lock(qm);
        if (stopping) throw RequestError{503, "the server is shutting down", "server_error"};
        const bool slot_free = running + static_cast<int>(queue.size()) < opt.parallel;
        if (!slot_free && static_cast<int>(queue.size()) >= opt.max_queue) {
            ++rejected;
            throw RequestError{503, "the server is busy: too many requests are waiting; retry later", "server_error", "server_busy"};
        }
        queue.push_back(job);
        qcv.notify_one();
    }

    // What the request parser needs from the model and the options (request_parser.h).
    RequestDefaults request_defaults() const {
        return RequestDefaults{model.default_sampling(), static_cast<uint64_t>(next_id.load()), opt.default_max_tokens,
                               opt.max_tokens_limit};
    }

    static std::shared_ptr<Job> make_job(ParsedRequest& r) {
        auto job = std::make_shared<Job>();
        job->sampling = r.sampling;
        job->seed = r.seed;
        job->options = std::move(r.options);
        return job;
    }

    std::shared_ptr<Job> make_chat_job(ParsedRequest& r) {
        auto job = make_job(r);
        ChatPrompt prompt = build_chat_prompt(model, r.messages);
        job->prompt = std::move(prompt.tokens);
        for (auto& s : chat_stop_strings(model, prompt)) job->options.stop_strings.push_back(s);
        check_context(*job);
        return job;
    }

    std::shared_ptr<Job> make_completion_job(ParsedRequest& r) {
        const Tokenizer* tok = model.tokenizer();
        if (!tok) throw RequestError{500, "the model has no tokenizer", "server_error"};
        auto job = make_job(r);
        job->prompt = tok->encode(r.prompt, true, false);
        if (job->prompt.empty() && tok->bos_id() >= 0) job->prompt.push_back(tok->bos_id());
        if (job->prompt.empty()) throw RequestError{400, "'prompt' is empty", "invalid_request_error", "", "prompt"};
        check_context(*job);
        return job;
    }

    void check_context(const Job& job) const {
        if (static_cast<int64_t>(job.prompt.size()) >= opt.n_ctx)
            throw RequestError{400, "the prompt has " + std::to_string(job.prompt.size()) + " tokens, more than the context of " +
                                        std::to_string(opt.n_ctx) + " tokens",
                               "invalid_request_error", "context_length_exceeded", "messages"};
    }

    static std::string finish_reason(const GenerationResult& r) {
        switch (r.stop) {
        case StopReason::MaxTokens:
        case StopReason::ContextFull: return "length";
        default: return "stop";
        }
    }

    int64_t completion_tokens(const GenerationResult& r) const {
        int64_t n = static_cast<int64_t>(r.tokens.size());
        if (r.stop == StopReason::EndOfGeneration && n > 0) --n;  // the end-of-turn token is not content
        return n;
    }

    json usage(const Job& job) const {
        const int64_t c = completion_tokens(job.result);
        const int64_t p = static_cast<int64_t>(job.prompt.size());
        return json{{"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}};
    }

    // Waits for the job to finish (non-streaming).
    void wait_done(Job& job) {
        std::unique_lock<std::mutex> lock(job.m);
        job.cv.wait(lock, [&] { return job.done; });
        if (!job.error.empty()) throw RequestError{500, "generation failed: " + job.error, "server_error"};
    }

    bool authorized(const httplib::Request& req) const {
        if (opt.api_key.empty()) return true;
        return req.get_header_value("Authorization") == "Bearer " + opt.api_key;
    }

    void reply_error(httplib::Response& res, const RequestError& e) {
        res.status = e.status;
        if (e.status == 503) res.set_header("Retry-After", "2");
        res.set_content(error_body(e).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    }

    template <typename Fn>
    void guarded(const httplib::Request& req, httplib::Response& res, Fn&& fn) {
        try {
            if (!authorized(req))
                throw RequestError{401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"};
            fn();
            ++served;
        } catch (const RequestError& e) {
            reply_error(res, e);
        } catch (const std::exception& e) {
            reply_error(res, RequestError{500, std::string("internal error: ") + e.what(), "server_error"});
        }
    }

    void handle_generation(const httplib::Request& req, httplib::Response& res, bool chat) {
        guarded(req, res, [&] {
            ParsedRequest parsed = chat ? parse_chat_request(req.body, request_defaults())
                                        : parse_completion_request(req.body, request_defaults());
            std::shared_ptr<Job> job = chat ? make_chat_job(parsed) : make_completion_job(parsed);
            const bool stream = parsed.stream;
            const bool include_usage = parsed.include_usage;
            const std::string id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id++);
            const int64_t created = now_seconds();
            submit(job);
            if (!stream) {
                wait_done(*job);
                json choice = {{"index", 0}, {"finish_reason", finish_reason(job->result)}};
                if (chat) {
                    choice["message"] = {{"role", "assistant"}, {"content", job->result.text}};
                } else {
                    choice["text"] = job->result.text;
                    choice["logprobs"] = nullptr;
                }
                json out = {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"}, {"created", created},
                            {"model", opt.model_id}, {"choices", json::array({choice})}, {"usage", usage(*job)}};
                res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
                return;
            }
            res.set_header("Cache-Control", "no-cache");
            res.set_chunked_content_provider(
                "text/event-stream",
                [this, job, id, created, chat, include_usage](size_t, httplib::DataSink& sink) -> bool {
                  try {
                    auto send = [&](const json& j) {
                        const std::string line = "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
                        return sink.write(line.data(), line.size());
                    };
                    auto chunk = [&](const json& delta_or_text, const json& finish) {
                        json choice = {{"index", 0}, {"finish_reason", finish}};
                        if (chat)
                            choice["delta"] = delta_or_text;
                        else
                            choice["text"] = delta_or_text;
                        return json{{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                                    {"created", created}, {"model", opt.model_id}, {"choices", json::array({choice})}};
                    };
                    if (chat && !send(chunk(json{{"role", "assistant"}, {"content", ""}}, nullptr))) {
                        job->cancel();
                        return false;
                    }
                    int idle_ticks = 0;
                    while (true) {
                        std::deque<std::string> pieces;
                        bool done = false;
                        {
                            std::unique_lock<std::mutex> lock(job->m);
                            job->cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return job->done || !job->pieces.empty(); });
                            pieces.swap(job->pieces);
                            done = job->done;
                        }
                        for (const std::string& p : pieces) {
                            if (!send(chunk(chat ? json{{"content", p}} : json(p), nullptr))) {
                                job->cancel();  // the client went away: stop generating for it
                                return false;
                            }
                        }
                        if (!done) {
                            // While queued or between tokens, an SSE comment now and then finds
                            // clients that went away (the write fails) and keeps proxies from timing out.
                            if (pieces.empty() && ++idle_ticks % 8 == 0) {
                                static const char keepalive[] = ": keep-alive\n\n";
                                if (!sink.write(keepalive, sizeof keepalive - 1)) {
                                    job->cancel();
                                    return false;
                                }
                            }
                            continue;
                        }
                        if (!job->error.empty()) {
                            send(error_body(RequestError{500, "generation failed: " + job->error, "server_error"}));
                        } else {
                            send(chunk(chat ? json::object() : json(""), finish_reason(job->result)));
                            if (include_usage)
                                send(json{{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                                          {"created", created}, {"model", opt.model_id}, {"choices", json::array()},
                                          {"usage", usage(*job)}});
                        }
                        const std::string done_line = "data: [DONE]\n\n";
                        sink.write(done_line.data(), done_line.size());
                        sink.done();
                        return true;
                    }
                  } catch (const std::exception&) {
                    job->cancel();  // never let an exception escape into the HTTP thread
                    return false;
                  }
                },
                [job](bool) {
                    // Called when the response ends, also when the client disconnected early.
                    if (!job->done) job->cancel();
                });
        });
    }
};

OpenAIServer::OpenAIServer(Model& model, ServerOptions options) : impl_(std::make_unique<Impl>(model, std::move(options))) {
    Impl& s = *impl_;
    s.http.set_payload_max_length(s.opt.max_body_bytes);
    // Remember the listening socket: the packaged cpp-httplib listens with a backlog of 5, too short for
    // a burst of clients, so start() widens it.
    s.http.set_socket_options([&s](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        s.listen_fd = sock;
    });
    const int threads = std::max(4, s.opt.http_threads);
    s.http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    s.http.set_read_timeout(30, 0);
    s.http.set_write_timeout(30, 0);

    s.http.Get("/v1/models", [&s](const httplib::Request& req, httplib::Response& res) {
        s.guarded(req, res, [&] {
            json model = {{"id", s.opt.model_id}, {"object", "model"}, {"created", now_seconds()}, {"owned_by", "bonsai"}};
            res.set_content(json{{"object", "list"}, {"data", json::array({model})}}.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
        });
    });
    s.http.Post("/v1/chat/completions", [&s](const httplib::Request& req, httplib::Response& res) { s.handle_generation(req, res, true); });
    s.http.Post("/v1/completions", [&s](const httplib::Request& req, httplib::Response& res) { s.handle_generation(req, res, false); });
    s.http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        RequestError e{res.status, "no such endpoint: " + req.method + " " + req.path, "invalid_request_error"};
        if (res.status == 413) e.message = "the request body is too large";
        res.set_content(error_body(e).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    });
}

OpenAIServer::~OpenAIServer() { stop(); }

void OpenAIServer::start() {
    Impl& s = *impl_;
    if (s.opt.port == 0) {
        s.bound_port = s.http.bind_to_any_port(s.opt.host.c_str());
        if (s.bound_port <= 0) throw Error("cannot listen on " + s.opt.host + " (any port)");
    } else {
        if (!s.http.bind_to_port(s.opt.host.c_str(), s.opt.port))
            throw Error("cannot listen on " + s.opt.host + ":" + std::to_string(s.opt.port) + " (is the port in use?)");
        s.bound_port = s.opt.port;
    }
    if (s.listen_fd >= 0) ::listen(s.listen_fd, 512);
    for (int i = 0; i < s.opt.parallel; ++i) s.slots.emplace_back([&s] { s.slot_main(); });
    s.listener = std::thread([&s] { s.http.listen_after_bind(); });
}

void OpenAIServer::stop() {
    Impl& s = *impl_;
    {
        std::lock_guard<std::mutex> lock(s.qm);
        if (s.stopping) return;
        s.stopping = true;
        for (auto& job : s.queue) {
            std::lock_guard<std::mutex> jl(job->m);
            job->error = "the server is shutting down";
            job->done = true;
            job->cv.notify_all();
        }
        s.queue.clear();
    }
    s.qcv.notify_all();
    s.http.stop();
    if (s.listener.joinable()) s.listener.join();
    for (auto& t : s.slots)
        if (t.joinable()) t.join();
    {
        std::lock_guard<std::mutex> lock(s.stop_m);
        s.stopped = true;
    }
    s.stop_cv.notify_all();
}

void OpenAIServer::wait() {
    std::unique_lock<std::mutex> lock(impl_->stop_m);
    impl_->stop_cv.wait(lock, [&] { return impl_->stopped; });
}

int OpenAIServer::port() const { return impl_->bound_port; }
int64_t OpenAIServer::requests_served() const { return impl_->served; }
int64_t OpenAIServer::requests_rejected_busy() const { return impl_->rejected; }

}  // namespace bonsai::server
