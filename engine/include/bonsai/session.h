#pragma once
// A conversation's state over one Model: the F16 KV cache, the tokens it holds, a sampler and a
// cancellation flag. One Session is used by one thread at a time, except cancel(), which any thread
// may call.
//
// Prefix reuse: evaluate()/generate() compare a new prompt with the tokens already in the cache and
// only compute the part after the longest common prefix, so a chat that resends its whole history each
// turn only pays for the new turn.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/model.h"
#include "bonsai/sampler.h"

namespace bonsai {

struct SessionParams {
    int64_t n_ctx = 4096;     // context window in tokens; 0 = the model's training context. Capped at it.
    uint64_t seed = 0;        // seed of the sampler's random stream
    SamplingParams sampling;  // sampling chain used by generate()
    int64_t n_batch = 512;    // prompt tokens per forward pass (bounds scratch memory)
};

enum class StopReason {
    None,          // still running / nothing generated
    MaxTokens,     // max_tokens reached
    EndOfGeneration,  // an end-of-generation token of the vocabulary (not passed to the callback as text)
    StopString,    // a stop string appeared in the output (the text up to it was delivered)
    Callback,      // the callback returned false
    Cancelled,     // cancel() was called
    ContextFull,   // the context window is full
};
const char* stop_reason_name(StopReason r);

struct GenerationStats {
    int64_t n_prompt = 0;        // prompt tokens given
    int64_t n_reused = 0;        // of those, taken from the cache (prefix reuse)
    int64_t n_generated = 0;     // tokens sampled (including a final end-of-generation token)
    double prompt_ms = 0.0;      // time to evaluate the prompt suffix
    double decode_ms = 0.0;      // time spent producing the generated tokens after the first
    double ttft_ms = 0.0;        // time to first token: from the call until the first sampled token
    double prompt_tps() const { return prompt_ms > 0 ? (n_prompt - n_reused) * 1000.0 / prompt_ms : 0.0; }
    double decode_tps() const { return decode_ms > 0 && n_generated > 1 ? (n_generated - 1) * 1000.0 / decode_ms : 0.0; }
};

struct GenerationResult {
    std::vector<int32_t> tokens;  // generated ids (an end-of-generation token is included)
    std::string text;             // their text, cut before a matched stop string
    StopReason stop = StopReason::None;
    GenerationStats stats;
};

struct GenerateOptions {
    int64_t max_tokens = 256;              // <= 0: only evaluate the prompt
    std::vector<std::string> stop_strings; // generation ends when one appears in the output text
    bool stop_at_eog = true;               // end on the vocabulary's end-of-generation tokens
};

// Called once per generated token with its id and the text that became final with it (may be empty:
// text is held back while it could still be the start of a stop string or a split UTF-8 character).
// Return false to stop.
using TokenCallback = std::function<bool(int32_t token, std::string_view text)>;

class Session {
public:
    // Allocates the KV cache for params.n_ctx tokens. Throws bonsai::Error for an invalid n_ctx.
    Session(Model& model, const SessionParams& params = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Makes the cache hold exactly `prompt` (reusing the longest common prefix with what it holds, but
    // always recomputing at least the last token) and leaves the logits of the evaluated tokens
    // available. Returns the number of reused tokens. Throws bonsai::Error if the prompt is empty, longer
    // than the context, holds an id outside the vocabulary, or cancel() was called between two prompt
    // batches ("cancelled"); the cache is then empty.
    int64_t evaluate(std::span<const int32_t> prompt, bool all_logits = false);
    // Appends tokens after the cached ones (teacher forcing, one decode per call). Throws bonsai::Error
    // when they do not fit the context.
    void append(std::span<const int32_t> tokens, bool all_logits = false);

    // Logits of the last evaluated token (n_vocab floats).
    std::span<const float> logits() const;
    // Logits of row i of the last evaluate()/append() call when all_logits was set (i < rows).
    std::span<const float> logits_row(int64_t i) const;
    int64_t logits_rows() const;

    // Evaluates `prompt` (with prefix reuse) and samples up to options.max_tokens tokens, streaming
    // them to `cb` (may be empty). Stops on an end-of-generation token, a stop string, the callback,
    // cancel(), max_tokens or a full context (see StopReason). Throws like evaluate().
    GenerationResult generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                              const TokenCallback& cb = {});

    // Asks a running generate()/evaluate() to stop; safe from any thread, effective within one token
    // (one batch for a prompt). The flag is cleared when generate()/evaluate() returns, so a cancel()
    // sent while idle stops the next call right away.
    void cancel() { cancel_.store(true, std::memory_order_relaxed); }

    // Forgets every cached token.
    void clear();
    // Tokens in the cache, in order.
    const std::vector<int32_t>& tokens() const { return tokens_; }
    int64_t n_ctx() const { return n_ctx_; }
    Model& model() { return model_; }
    Sampler& sampler() { return *sampler_; }
    // Replaces the sampling chain (and restarts its random stream with `seed`).
    void set_sampling(const SamplingParams& sampling, uint64_t seed);
    // Stats of the last generate().
    const GenerationStats& last_stats() const { return stats_; }

private:
    struct State;
    void forward(std::span<const int32_t> tokens, bool all_logits);
    int64_t evaluate_impl(std::span<const int32_t> prompt, bool all_logits);

    Model& model_;
    SessionParams params_;
    int64_t n_ctx_ = 0;
    std::vector<int32_t> tokens_;
    std::unique_ptr<State> state_;
    std::unique_ptr<Sampler> sampler_;
    std::atomic<bool> cancel_{false};
    GenerationStats stats_;
};

}  // namespace bonsai
