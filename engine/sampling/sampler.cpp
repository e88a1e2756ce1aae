#include "bonsai/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "bonsai/error.h"
#include "bonsai/gguf.h"

namespace bonsai {

SamplingParams SamplingParams::from_gguf(const gguf::GgufFile& file) {
    SamplingParams p;
    if (auto v = file.get_float("general.sampling.temp")) p.temperature = static_cast<float>(*v);
    if (auto v = file.get_int("general.sampling.top_k")) p.top_k = static_cast<int32_t>(std::clamp<int64_t>(*v, -1, 1 << 30));
    if (auto v = file.get_float("general.sampling.top_p")) p.top_p = static_cast<float>(*v);
    if (auto v = file.get_float("general.sampling.min_p")) p.min_p = static_cast<float>(*v);
    if (auto v = file.get_float("general.sampling.penalty_repeat")) p.repeat_penalty = static_cast<float>(*v);
    if (auto v = file.get_int("general.sampling.penalty_last_n"))
        p.penalty_last_n = static_cast<int32_t>(std::clamp<int64_t>(*v, -1, 1 << 30));
    if (!std::isfinite(p.temperature) || !std::isfinite(p.top_p) || !std::isfinite(p.min_p) ||
        !std::isfinite(p.repeat_penalty) || p.repeat_penalty <= 0.0f)
        throw Error("general.sampling.* keys hold an invalid value");
    return p;
}

SamplingParams SamplingParams::greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    return p;
}

Sampler::Sampler(const SamplingParams& params, uint64_t seed) : params_(params), rng_(seed) {}

int32_t Sampler::argmax(std::span<const float> logits) {
    if (logits.empty()) throw Error("sampler: empty logits");
    size_t best = 0;
    for (size_t i = 1; i < logits.size(); ++i)
        if (logits[i] > logits[best]) best = i;  // strict: the lowest id wins ties
    return static_cast<int32_t>(best);
}

namespace {

struct Cand {
    int32_t id;
    float logit;
    float p;
};

void apply_penalties(std::vector<float>& l, const SamplingParams& sp, std::span<const int32_t> history) {
    const bool any = sp.repeat_penalty != 1.0f || sp.presence_penalty != 0.0f || sp.frequency_penalty != 0.0f;
    if (!any || sp.penalty_last_n == 0 || history.empty()) return;
    size_t n = history.size();
    if (sp.penalty_last_n > 0) n = std::min(n, static_cast<size_t>(sp.penalty_last_n));
    std::unordered_map<int32_t, int> counts;
    for (size_t i = history.size() - n; i < history.size(); ++i) ++counts[history[i]];
    for (const auto& [tok, c] : counts) {
        if (tok < 0 || static_cast<size_t>(tok) >= l.size()) continue;
        float& v = l[static_cast<size_t>(tok)];
        if (sp.repeat_penalty != 1.0f) v = v <= 0.0f ? v * sp.repeat_penalty : v / sp.repeat_penalty;
        v -= static_cast<float>(c) * sp.frequency_penalty + (c > 0 ? sp.presence_penalty : 0.0f);
    }
}

// Softmax over cands (sorted by logit descending) with logits divided by `temp`.
void softmax(std::vector<Cand>& c, float temp) {
    const float mx = c.front().logit;
    double sum = 0.0;
    for (auto& x : c) {
        x.p = std::exp((x.logit - mx) / temp);
        sum += x.p;
    }
    for (auto& x : c) x.p = static_cast<float>(x.p / sum);
}

}  // namespace

std::vector<std::pair<int32_t, float>> Sampler::distribution(std::span<const float> logits,
                                                             std::span<const int32_t> history) const {
    if (logits.empty()) throw Error("sampler: empty logits");
    std::vector<float> l(logits.begin(), logits.end());
    apply_penalties(l, params_, history);
    std::vector<std::pair<int32_t, float>> out;
    if (params_.temperature <= 0.0f) {
        out.emplace_back(argmax(l), 1.0f);
        return out;
    }
    std::vector<Cand> c;
    c.reserve(l.size());
    for (size_t i = 0; i < l.size(); ++i) {
        if (std::isnan(l[i])) continue;
        c.push_back({static_cast<int32_t>(i), l[i], 0.0f});
    }
    if (c.empty()) throw Error("sampler: every logit is NaN");
    auto by_logit = [](const Cand& a, const Cand& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < c.size()) {
        std::partial_sort(c.begin(), c.begin() + params_.top_k, c.end(), by_logit);
        c.resize(static_cast<size_t>(params_.top_k));
    } else {
        std::sort(c.begin(), c.end(), by_logit);
    }
    if (params_.top_p < 1.0f) {
        softmax(c, 1.0f);
        double cum = 0.0;
        size_t keep = c.size();
        for (size_t i = 0; i < c.size(); ++i) {
            cum += c[i].p;
            if (cum >= params_.top_p) {
                keep = i + 1;
                break;
            }
        }
        c.resize(keep);
    }
    if (params_.min_p > 0.0f) {
        softmax(c, 1.0f);
        const float thr = c.front().p * params_.min_p;
        size_t keep = 1;
        while (keep < c.size() && c[keep].p >= thr) ++keep;
        c.resize(keep);
    }
    softmax(c, params_.temperature);
    std::sort(c.begin(), c.end(), [](const Cand& a, const Cand& b) { return a.id < b.id; });
    out.reserve(c.size());
    for (const auto& x : c) out.emplace_back(x.id, x.p);
    return out;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
    const auto dist = distribution(logits, history);
    if (dist.size() == 1) return dist.front().first;
    // 53 random bits -> uniform double in [0, 1); portable, unlike std::uniform_real_distribution.
    const double u = static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0);
    double cum = 0.0;
    for (const auto& [id, p] : dist) {
        cum += p;
        if (u < cum) return id;
    }
    return dist.back().first;
}

}  // namespace bonsai
