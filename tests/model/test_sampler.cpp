// Sampler chain: greedy tie rule, top-k / top-p / min-p / temperature masses computed by hand,
// penalties, seeded determinism, draw frequencies, and defaults from general.sampling.* keys.
#include <QtTest>
#include <cmath>

#include "bonsai/error.h"
#include "bonsai/gguf.h"
#include "bonsai/sampler.h"

using namespace bonsai;

namespace {

SamplingParams plain(float temp = 1.0f) {
    SamplingParams p = SamplingParams::greedy();
    p.temperature = temp;
    return p;
}

std::vector<float> log_probs(std::initializer_list<double> p) {
    std::vector<float> l;
    for (double x : p) l.push_back(static_cast<float>(std::log(x)));
    return l;
}

void expect_dist(const std::vector<std::pair<int32_t, float>>& got, const std::vector<std::pair<int32_t, double>>& want) {
    QCOMPARE(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        QCOMPARE(got[i].first, want[i].first);
        QVERIFY2(std::fabs(got[i].second - want[i].second) < 1e-5,
                 qPrintable(QString("id %1: p %2, expected %3").arg(got[i].first).arg(got[i].second).arg(want[i].second)));
    }
}

}  // namespace

class TestSampler : public QObject {
    Q_OBJECT
private slots:
    void greedy_ties_pick_lowest_id() {
        Sampler s(SamplingParams::greedy(), 1);
        const std::vector<float> l = {1.0f, 3.0f, 3.0f, 2.0f, 3.0f};
        QCOMPARE(s.sample(l, {}), 1);
        QCOMPARE(Sampler::argmax(l), 1);
        const std::vector<float> all_equal(7, 0.5f);
        QCOMPARE(Sampler::argmax(all_equal), 0);
    }

    void top_k_keeps_k_best() {
        SamplingParams p = plain();
        p.top_k = 2;
        Sampler s(p, 1);
        const auto d = s.distribution(log_probs({0.1, 0.4, 0.2, 0.3}), {});
        expect_dist(d, {{1, 0.4 / 0.7}, {3, 0.3 / 0.7}});
    }

    void top_p_keeps_smallest_prefix_reaching_p() {
        SamplingParams p = plain();
        p.top_p = 0.75f;  // 0.5 < 0.75 <= 0.5 + 0.3
        Sampler s(p, 1);
        expect_dist(s.distribution(log_probs({0.15, 0.5, 0.05, 0.3}), {}), {{1, 0.5 / 0.8}, {3, 0.3 / 0.8}});
        p.top_p = 0.9f;  // 0.8 < 0.9 <= 0.95
        Sampler s2(p, 1);
        expect_dist(s2.distribution(log_probs({0.15, 0.5, 0.05, 0.3}), {}), {{0, 0.15 / 0.95}, {1, 0.5 / 0.95}, {3, 0.3 / 0.95}});
    }

    void min_p_drops_tokens_below_fraction_of_best() {
        SamplingParams p = plain();
        p.min_p = 0.25f;  // threshold 0.125: drops 0.05 and 0.1
        Sampler s(p, 1);
        expect_dist(s.distribution(log_probs({0.05, 0.5, 0.1, 0.35}), {}), {{1, 0.5 / 0.85}, {3, 0.35 / 0.85}});
    }

    void temperature_sharpens_and_flattens() {
        Sampler s(plain(0.5f), 1);  // p^(1/T) = p^2
        expect_dist(s.distribution(log_probs({0.2, 0.8}), {}), {{0, 0.04 / 0.68}, {1, 0.64 / 0.68}});
        Sampler t(plain(2.0f), 1);  // p^0.5
        const double a = std::sqrt(0.2), b = std::sqrt(0.8);
        expect_dist(t.distribution(log_probs({0.2, 0.8}), {}), {{0, a / (a + b)}, {1, b / (a + b)}});
    }

    void penalties() {
        SamplingParams p = plain();
        p.repeat_penalty = 2.0f;
        Sampler s(p, 1);
        // logits 2 (seen) -> 1, -1 (seen) -> -2, 0 (unseen) stays.
        const std::vector<float> l = {2.0f, -1.0f, 0.0f};
        const std::vector<int32_t> hist = {0, 1};
        const double e1 = std::exp(1.0), e2 = std::exp(-2.0), e0 = 1.0, z = e1 + e2 + e0;
        expect_dist(s.distribution(l, hist), {{0, e1 / z}, {1, e2 / z}, {2, e0 / z}});

        SamplingParams q = plain();
        q.frequency_penalty = 0.5f;
        q.presence_penalty = 1.0f;
        Sampler s2(q, 1);
        // token 0 seen twice: 2 - 2·0.5 - 1 = 0; token 1 seen once: -1 - 0.5 - 1 = -2.5.
        const std::vector<int32_t> hist2 = {0, 0, 1};
        const double f0 = 1.0, f1 = std::exp(-2.5), f2 = 1.0, z2 = f0 + f1 + f2;
        expect_dist(s2.distribution(l, hist2), {{0, f0 / z2}, {1, f1 / z2}, {2, f2 / z2}});

        // The window: only the last penalty_last_n tokens count.
        SamplingParams r = plain();
        r.repeat_penalty = 2.0f;
        r.penalty_last_n = 1;
        Sampler s3(r, 1);
        const std::vector<int32_t> hist3 = {0, 1};  // only token 1 is in the window
        const double g0 = std::exp(2.0), g1 = std::exp(-2.0), z3 = g0 + g1 + 1.0;
        expect_dist(s3.distribution(l, hist3), {{0, g0 / z3}, {1, g1 / z3}, {2, 1.0 / z3}});
    }

    void deterministic_for_a_seed() {
        const std::vector<float> l = log_probs({0.1, 0.15, 0.2, 0.05, 0.1, 0.1, 0.2, 0.1});
        auto run = [&](uint64_t seed) {
            Sampler s(plain(), seed);
            std::vector<int32_t> out;
            for (int i = 0; i < 64; ++i) out.push_back(s.sample(l, {}));
            return out;
        };
        QCOMPARE(run(42), run(42));
        QVERIFY(run(42) != run(43));
        Sampler s(plain(), 42);
        const auto first = s.sample(l, {});
        s.reseed(42);
        QCOMPARE(s.sample(l, {}), first);
    }

    void draws_follow_the_distribution() {
        Sampler s(plain(), 7);
        const std::vector<float> l = log_probs({0.5, 0.3, 0.2});
        int counts[3] = {0, 0, 0};
        const int n = 20000;
        for (int i = 0; i < n; ++i) ++counts[s.sample(l, {})];
        QVERIFY(std::fabs(counts[0] / double(n) - 0.5) < 0.02);
        QVERIFY(std::fabs(counts[1] / double(n) - 0.3) < 0.02);
        QVERIFY(std::fabs(counts[2] / double(n) - 0.2) < 0.02);
    }

    void defaults_from_gguf() {
        gguf::GgufWriter w;
        w.set_string("general.architecture", "qwen3");
        auto bytes = w.to_bytes();
        auto f = gguf::GgufFile::from_memory(bytes.data(), bytes.size());
        const SamplingParams d = SamplingParams::from_gguf(*f);
        QCOMPARE(d.temperature, 0.5f);
        QCOMPARE(d.top_p, 0.85f);
        QCOMPARE(d.top_k, 20);
        QCOMPARE(d.min_p, 0.0f);

        gguf::GgufWriter w2;
        w2.set_string("general.architecture", "qwen3");
        w2.set_f32("general.sampling.temp", 0.7f);
        w2.set_i32("general.sampling.top_k", 40);
        w2.set_f32("general.sampling.top_p", 0.95f);
        w2.set_f32("general.sampling.min_p", 0.05f);
        auto bytes2 = w2.to_bytes();
        auto f2 = gguf::GgufFile::from_memory(bytes2.data(), bytes2.size());
        const SamplingParams e = SamplingParams::from_gguf(*f2);
        QCOMPARE(e.temperature, 0.7f);
        QCOMPARE(e.top_k, 40);
        QCOMPARE(e.top_p, 0.95f);
        QCOMPARE(e.min_p, 0.05f);

        gguf::GgufWriter w3;
        w3.set_string("general.architecture", "qwen3");
        w3.set_string("general.sampling.temp", "hot");
        auto bytes3 = w3.to_bytes();
        auto f3 = gguf::GgufFile::from_memory(bytes3.data(), bytes3.size());
        bool threw = false;
        try {
            (void)SamplingParams::from_gguf(*f3);
        } catch (const Error&) {
            threw = true;
        }
        QVERIFY(threw);
    }

    void empty_logits_throw() {
        Sampler s(plain(), 1);
        bool threw = false;
        try {
            s.sample({}, {});
        } catch (const Error&) {
            threw = true;
        }
        QVERIFY(threw);
    }
};

QTEST_GUILESS_MAIN(TestSampler)
#include "test_sampler.moc"
