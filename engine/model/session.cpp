// bonsai::Session: KV cache with prefix reuse, batched prompt evaluation, sampling loop with stop
// strings, end-of-generation tokens, cancellation and timing stats.
#include "bonsai/session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "model/model_impl.h"
#include "model/token_text.h"

namespace bonsai {

const char* stop_reason_name(StopReason r) {
    switch (r) {
        case StopReason::None: return "none";
        case StopReason::MaxTokens: return "max_tokens";
        case StopReason::EndOfGeneration: return "end_of_generation";
        case StopReason::StopString: return "stop_string";
        case StopReason::Callback: return "callback";
        case StopReason::Cancelled: return "cancelled";
        case StopReason::ContextFull: return "context_full";
    }
    return "?";
}

struct Session::State {
    model_detail::KvCache kv;                             // CPU backend
    std::unique_ptr<model_detail::VulkanSessionState> vk;  // Vulkan backend (then kv stays empty)
    model_detail::ForwardState st;
    std::vector<float> logits;  // rows × n_vocab of the last evaluate/append
    int64_t rows = 0;
};

namespace {

// Thrown by forward() between prompt batches when cancel() was called.
struct Cancelled : Error {
    Cancelled() : Error("cancelled") {}
};

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Bytes at the end of `s` that start an incomplete UTF-8 sequence (held back until completed).
size_t incomplete_utf8_tail(const std::string& s) {
    const size_t n = s.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto c = static_cast<unsigned char>(s[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
        const size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

// Length of the longest suffix of `s` that is a proper prefix of some stop string.
size_t partial_stop_tail(const std::string& s, const std::vector<std::string>& stops) {
    size_t best = 0;
    for (const auto& st : stops) {
        for (size_t len = std::min(st.size() - 1, s.size()); len > best; --len) {
            if (s.compare(s.size() - len, len, st, 0, len) == 0) {
                best = len;
                break;
            }
        }
    }
    return best;
}

}  // namespace

Session::Session(Model& model, const SessionParams& params) : model_(model), params_(params), state_(std::make_unique<State>()) {
    const HParams& hp = model.hparams();
    n_ctx_ = params.n_ctx <= 0 ? hp.n_ctx_train : std::min(params.n_ctx, hp.n_ctx_train);
    if (n_ctx_ <= 0) throw Error("session: invalid context size");
    if (params_.n_batch <= 0) params_.n_batch = 512;
    if (auto* vk = model.impl().vk.get()) {
        try {
            state_->vk = vk->new_session(n_ctx_);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bonsai: Vulkan KV cache not allocated (%s); this session runs on the CPU\n", e.what());
        }
    }
    if (!state_->vk) state_->kv.allocate(hp.n_layer, n_ctx_, hp.n_head_kv, hp.head_dim);
    sampler_ = std::make_unique<Sampler>(params.sampling, params.seed);
}

Session::~Session() = default;

void Session::clear() {
    tokens_.clear();
    state_->rows = 0;
}

void Session::set_sampling(const SamplingParams& sampling, uint64_t seed) {
    params_.sampling = sampling;
    sampler_ = std::make_unique<Sampler>(sampling, seed);
}

std::span<const float> Session::logits() const {
    if (state_->rows == 0) throw Error("session: no logits yet (evaluate a prompt first)");
    const size_t V = static_cast<size_t>(model_.n_vocab());
    return {state_->logits.data() + (static_cast<size_t>(state_->rows) - 1) * V, V};
}

std::span<const float> Session::logits_row(int64_t i) const {
    if (i < 0 || i >= state_->rows) throw Error("session: logits row out of range");
    const size_t V = static_cast<size_t>(model_.n_vocab());
    return {state_->logits.data() + static_cast<size_t>(i) * V, V};
}

int64_t Session::logits_rows() const { return state_->rows; }

void Session::forward(std::span<const int32_t> tokens, bool all_logits) {
    const int64_t V = model_.n_vocab();
    for (int32_t id : tokens)
        if (id < 0 || id >= V)
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(V - 1) + ")");
    if (static_cast<int64_t>(tokens_.size() + tokens.size()) > n_ctx_)
        throw Error("context limit reached: " + std::to_string(tokens_.size() + tokens.size()) +
                    " tokens do not fit the context window of " + std::to_string(n_ctx_) + " tokens");
    State& s = *state_;
    s.rows = 0;
    s.logits.clear();
    auto& im = model_.impl();
    const size_t V_ = static_cast<size_t>(V);
    auto run = [&](const int32_t* t, int64_t n, int64_t pos0, bool all) {
        if (s.vk) im.vk->forward(t, n, pos0, *s.vk, s.st, all, im.pool.get());
        else im.forward(t, n, pos0, s.kv, s.st, all);
    };
    for (size_t off = 0; off < tokens.size(); off += static_cast<size_t>(params_.n_batch)) {
        if (off > 0 && cancel_.load(std::memory_order_relaxed)) throw Cancelled();
        const size_t n = std::min(tokens.size() - off, static_cast<size_t>(params_.n_batch));
        const bool last = off + n == tokens.size();
        if (!all_logits && !last) {
            // Intermediate batches still need a forward pass; their logits are dropped.
            run(tokens.data() + off, static_cast<int64_t>(n), static_cast<int64_t>(tokens_.size()), false);
        } else {
            run(tokens.data() + off, static_cast<int64_t>(n), static_cast<int64_t>(tokens_.size()), all_logits);
            s.logits.insert(s.logits.end(), s.st.logits.begin(), s.st.logits.begin() + s.st.logits_rows * static_cast<int64_t>(V_));
            s.rows += s.st.logits_rows;
        }
        tokens_.insert(tokens_.end(), tokens.begin() + static_cast<std::ptrdiff_t>(off),
                       tokens.begin() + static_cast<std::ptrdiff_t>(off + n));
    }
}

int64_t Session::evaluate(std::span<const int32_t> prompt, bool all_logits) {
    struct ClearCancel {
        std::atomic<bool>& f;
        ~ClearCancel() { f.store(false); }
    } clear_cancel{cancel_};
    return evaluate_impl(prompt, all_logits);
}

int64_t Session::evaluate_impl(std::span<const int32_t> prompt, bool all_logits) {
    if (prompt.empty()) throw Error("session: empty prompt");
    if (static_cast<int64_t>(prompt.size()) > n_ctx_)
        throw Error("context limit: the prompt has " + std::to_string(prompt.size()) +
                    " tokens but the context window holds " + std::to_string(n_ctx_));
    size_t common = 0;
    while (common < tokens_.size() && common < prompt.size() && tokens_[common] == prompt[common]) ++common;
    common = std::min(common, prompt.size() - 1);  // the last token is always recomputed for its logits
    tokens_.resize(common);
    try {
        forward(prompt.subspan(common), all_logits);
    } catch (...) {
        clear();
        throw;
    }
    return static_cast<int64_t>(common);
}

void Session::append(std::span<const int32_t> tokens, bool all_logits) {
    if (tokens.empty()) return;
    forward(tokens, all_logits);
}

GenerationResult Session::generate(std::span<const int32_t> prompt, const GenerateOptions& options, const TokenCallback& cb) {
    GenerationResult res;
    const auto t0 = Clock::now();
    res.stats.n_prompt = static_cast<int64_t>(prompt.size());
    struct ClearCancel {
        std::atomic<bool>& f;
        ~ClearCancel() { f.store(false); }
    } clear_cancel{cancel_};
    try {
        if (cancel_.load()) throw Cancelled();
        res.stats.n_reused = evaluate_impl(prompt, false);
    } catch (const Cancelled&) {
        res.stop = StopReason::Cancelled;
        stats_ = res.stats;
        return res;
    }
    res.stats.prompt_ms = ms_since(t0);
    Clock::time_point t_first{};
    std::string text;
    size_t emitted = 0;
    size_t max_stop = 0;
    for (const auto& s : options.stop_strings) max_stop = std::max(max_stop, s.size());
    std::vector<std::string> stops;
    for (const auto& s : options.stop_strings)
        if (!s.empty()) stops.push_back(s);

    for (int64_t i = 0; i < options.max_tokens; ++i) {
        if (cancel_.load(std::memory_order_relaxed)) {
            res.stop = StopReason::Cancelled;
            break;
        }
        const int32_t tok = sampler_->sample(logits(), tokens_);
        if (i == 0) {
            t_first = Clock::now();
            res.stats.ttft_ms = ms_since(t0);
        }
        res.tokens.push_back(tok);
        ++res.stats.n_generated;
        if (options.stop_at_eog && model_detail::token_is_eog(model_, tok)) {
            res.stop = StopReason::EndOfGeneration;
            break;
        }
        text += model_detail::token_text(model_, tok);
        size_t end = text.size();
        bool hit = false;
        if (!stops.empty()) {
            const size_t from = emitted > max_stop ? emitted - max_stop : 0;
            size_t first = std::string::npos;
            for (const auto& s : stops) first = std::min(first, text.find(s, from));
            if (first != std::string::npos) {
                end = first;
                hit = true;
            } else {
                end -= partial_stop_tail(text, stops);
            }
        }
        if (!hit) end = std::min(end, text.size() - incomplete_utf8_tail(text));
        end = std::max(end, emitted);
        const std::string_view delta(text.data() + emitted, end - emitted);
        const bool go_on = cb ? cb(tok, delta) : true;
        emitted = end;
        if (hit) {
            text.resize(end);
            res.stop = StopReason::StopString;
            break;
        }
        if (!go_on) {
            res.stop = StopReason::Callback;
            break;
        }
        if (i + 1 == options.max_tokens) {
            res.stop = StopReason::MaxTokens;
            break;
        }
        if (static_cast<int64_t>(tokens_.size()) >= n_ctx_) {
            res.stop = StopReason::ContextFull;
            break;
        }
        const int32_t one[1] = {tok};
        forward(one, false);
    }
    if (options.max_tokens <= 0) res.stop = StopReason::MaxTokens;
    // Text held back as a possible stop-string start or split character is final now.
    if (res.stop != StopReason::StopString && emitted < text.size() && cb) cb(-1, std::string_view(text).substr(emitted));
    res.text = text;
    if (res.stats.n_generated > 0) res.stats.decode_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_first).count();
    stats_ = res.stats;
    return res;
}

}  // namespace bonsai
