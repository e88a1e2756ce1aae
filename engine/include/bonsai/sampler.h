#pragma once
// Token sampling: a fixed chain in llama.cpp's order
//   penalties (repetition / presence / frequency) -> top-k -> top-p -> min-p -> temperature -> draw,
// or greedy argmax (ties -> lowest id) when temperature <= 0. The random draw uses std::mt19937_64, so a
// given seed, logits and history always give the same token.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace bonsai {

namespace gguf {
class GgufFile;
}

struct SamplingParams {
    float temperature = 0.5f;      // <= 0: greedy
    int32_t top_k = 20;            // <= 0: disabled
    float top_p = 0.85f;           // >= 1: disabled
    float min_p = 0.0f;            // <= 0: disabled (keeps tokens with p >= min_p * p_max)
    float repeat_penalty = 1.0f;   // 1: disabled; logits of recent tokens: l>0 ? l/r : l*r
    float presence_penalty = 0.0f; // subtracted once from a recent token's logit
    float frequency_penalty = 0.0f;// subtracted per occurrence in the recent window
    int32_t penalty_last_n = 64;   // size of the recent window for the penalties (0: disabled, -1: all)

    // Bonsai defaults (formats.md §6) overridden by any `general.sampling.*` keys the file carries
    // (temp, top_k, top_p, min_p, penalty_repeat, penalty_last_n). Throws bonsai::Error on a key of the
    // wrong type.
    static SamplingParams from_gguf(const gguf::GgufFile& file);
    // Greedy decoding (temperature 0, every filter off).
    static SamplingParams greedy();
};

class Sampler {
public:
    Sampler(const SamplingParams& params, uint64_t seed);

    // Picks the next token from `logits` (n_vocab floats). `history` holds the tokens seen so far (prompt
    // and generated), used by the penalties. Throws bonsai::Error if n_vocab is 0.
    int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

    // The candidate distribution after every filter of the chain (token ids ascending, probabilities
    // summing to 1), without drawing. For tests and UIs that show alternatives.
    std::vector<std::pair<int32_t, float>> distribution(std::span<const float> logits,
                                                        std::span<const int32_t> history) const;

    // Restarts the random stream.
    void reseed(uint64_t seed) { rng_.seed(seed); }
    const SamplingParams& params() const { return params_; }

    // Argmax with the lowest id winning ties (what greedy decoding and the fixture checks use).
    static int32_t argmax(std::span<const float> logits);

private:
    SamplingParams params_;
    std::mt19937_64 rng_;
};

}  // namespace bonsai
