// Session behaviour on a fixture model: prefix reuse gives the logits of a fresh evaluation, cancel()
// from another thread, context limit errors, stop strings, seeded determinism and stats.
#include <QtTest>
#include <atomic>
#include <fstream>
#include <thread>

#include "bonsai/model.h"
#include "bonsai/session.h"
#include "test_paths.h"

using namespace bonsai;

namespace {

std::vector<int32_t> fixture_tokens() {
    std::ifstream f(test::fixtures("models/tokens.txt"));
    std::vector<int32_t> ids;
    int32_t x;
    while (f >> x) ids.push_back(x);
    return ids;
}

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

}  // namespace

class TestSession : public QObject {
    Q_OBJECT
    std::unique_ptr<Model> model_;

private slots:
    void initTestCase() {
        ModelParams mp;
        mp.n_threads = 2;
        model_ = Model::load(test::fixtures("models/qwen3-e256-Q8_0.gguf"), mp);
    }

    void prefix_reuse_matches_fresh_evaluation() {
        const auto toks = fixture_tokens();
        SessionParams sp;
        sp.n_ctx = 128;
        Session fresh(*model_, sp);
        QCOMPARE(fresh.evaluate(toks, true), int64_t(0));
        const auto want_last = copy(fresh.logits());
        const auto want_row20 = copy(fresh.logits_row(20));

        Session s(*model_, sp);
        const std::vector<int32_t> head(toks.begin(), toks.begin() + 16);
        QCOMPARE(s.evaluate(head), int64_t(0));
        QCOMPARE(s.evaluate(toks, true), int64_t(16));  // only the 8 new tokens are computed
        QCOMPARE(s.logits_rows(), int64_t(8));
        QCOMPARE(copy(s.logits()), want_last);
        QCOMPARE(copy(s.logits_row(4)), want_row20);

        // A prompt that diverges inside the cache keeps only the common prefix.
        std::vector<int32_t> other = toks;
        other[10] = 300;
        QCOMPARE(s.evaluate(other), int64_t(10));
        QCOMPARE(s.evaluate(toks), int64_t(10));
        QCOMPARE(copy(s.logits()), want_last);
        // The same prompt again recomputes only its last token.
        QCOMPARE(s.evaluate(toks), int64_t(23));
        QCOMPARE(copy(s.logits()), want_last);
        QCOMPARE(s.tokens(), toks);
    }

    void batches_match_single_pass() {
        const auto toks = fixture_tokens();
        SessionParams sp;
        sp.n_ctx = 64;
        Session one(*model_, sp);
        one.evaluate(toks, true);
        sp.n_batch = 5;
        Session batched(*model_, sp);
        batched.evaluate(toks, true);
        QCOMPARE(batched.logits_rows(), int64_t(24));
        for (int64_t i = 0; i < 24; ++i) QCOMPARE(copy(batched.logits_row(i)), copy(one.logits_row(i)));
    }

    void cancel_from_another_thread() {
        SessionParams sp;
        sp.n_ctx = 512;
        sp.sampling.temperature = 1.0f;
        Session s(*model_, sp);
        // Deterministic hand-off: at the third token the callback waits until the other thread has
        // called cancel(); generation must then stop within one more token, however loaded the machine.
        std::atomic<int> produced{0};
        std::atomic<bool> cancelled{false};
        std::thread canceller([&] {
            while (produced.load() < 3) std::this_thread::yield();
            s.cancel();
            cancelled = true;
        });
        GenerateOptions go;
        go.max_tokens = 400;
        go.stop_at_eog = false;
        const GenerationResult r = s.generate(fixture_tokens(), go, [&](int32_t, std::string_view) {
            if (++produced == 3) {
                while (!cancelled.load()) std::this_thread::yield();
            }
            return true;
        });
        canceller.join();
        QCOMPARE(r.stop, StopReason::Cancelled);
        QVERIFY(r.stats.n_generated < 400);
        // Effective within one token of the cancel() call.
        QVERIFY2(r.stats.n_generated <= 3 + 1, qPrintable(QString::number(r.stats.n_generated)));
        // The flag is cleared: the next generation runs normally.
        go.max_tokens = 3;
        const GenerationResult r2 = s.generate(fixture_tokens(), go);
        QCOMPARE(r2.stop, StopReason::MaxTokens);
        QCOMPARE(r2.tokens.size(), size_t(3));
    }

    void cancel_before_generate_stops_immediately() {
        Session s(*model_, SessionParams{});
        s.cancel();
        GenerateOptions go;
        go.max_tokens = 10;
        const GenerationResult r = s.generate(fixture_tokens(), go);
        QCOMPARE(r.stop, StopReason::Cancelled);
        QCOMPARE(r.tokens.size(), size_t(0));
    }

    void context_limit() {
        SessionParams sp;
        sp.n_ctx = 30;
        Session s(*model_, sp);
        QCOMPARE(s.n_ctx(), int64_t(30));
        std::vector<int32_t> too_long(31, 5);
        bool threw = false;
        try {
            s.evaluate(too_long);
        } catch (const Error& e) {
            threw = std::string(e.what()).find("context") != std::string::npos;
        }
        QVERIFY(threw);
        GenerateOptions go;
        go.max_tokens = 100;
        go.stop_at_eog = false;
        const GenerationResult r = s.generate(fixture_tokens(), go);
        QCOMPARE(r.stop, StopReason::ContextFull);
        QCOMPARE(s.tokens().size(), size_t(30));
        QCOMPARE(r.tokens.size(), size_t(7));  // 24 + 6 evaluated, the 7th sampled from the full cache
        threw = false;
        try {
            const int32_t one = 1;
            s.append(std::span<const int32_t>(&one, 1));
        } catch (const Error& e) {
            threw = std::string(e.what()).find("context limit") != std::string::npos;
        }
        QVERIFY(threw);
        // Out-of-vocabulary ids are refused.
        threw = false;
        try {
            s.evaluate(std::vector<int32_t>{1, 5000});
        } catch (const Error&) {
            threw = true;
        }
        QVERIFY(threw);
    }

    void stop_strings_cut_the_text() {
        QVERIFY(model_->tokenizer() != nullptr);
        SessionParams sp;
        sp.n_ctx = 256;
        sp.sampling = SamplingParams::greedy();
        Session s(*model_, sp);
        GenerateOptions go;
        go.max_tokens = 40;
        go.stop_at_eog = false;
        std::string streamed;
        const GenerationResult full = s.generate(fixture_tokens(), go, [&](int32_t, std::string_view t) {
            streamed += t;
            return true;
        });
        QCOMPARE(streamed, full.text);
        QVERIFY2(full.text.size() > 12, full.text.c_str());
        // Stop at a 3-byte piece from the middle of that text.
        const std::string stop = full.text.substr(full.text.size() / 2, 3);
        const size_t cut = full.text.find(stop);
        go.stop_strings = {stop};
        std::string streamed2;
        const GenerationResult r = s.generate(fixture_tokens(), go, [&](int32_t, std::string_view t) {
            streamed2 += t;
            return true;
        });
        QCOMPARE(r.stop, StopReason::StopString);
        QCOMPARE(r.text, full.text.substr(0, cut));
        QCOMPARE(streamed2, r.text);  // nothing of the stop string leaked to the callback
        QVERIFY(r.tokens.size() <= full.tokens.size());
    }

    void callback_can_stop() {
        Session s(*model_, SessionParams{});
        GenerateOptions go;
        go.max_tokens = 50;
        go.stop_at_eog = false;
        int n = 0;
        const GenerationResult r = s.generate(fixture_tokens(), go, [&](int32_t, std::string_view) { return ++n < 4; });
        QCOMPARE(r.stop, StopReason::Callback);
        QCOMPARE(r.tokens.size(), size_t(4));
    }

    void deterministic_for_a_seed_and_stats() {
        auto run = [&](uint64_t seed) {
            SessionParams sp;
            sp.seed = seed;
            sp.sampling.temperature = 1.5f;
            sp.sampling.top_k = 0;
            sp.sampling.top_p = 1.0f;
            Session s(*model_, sp);
            GenerateOptions go;
            go.max_tokens = 16;
            go.stop_at_eog = false;
            return s.generate(fixture_tokens(), go);
        };
        const GenerationResult a = run(11), b = run(11), c = run(12);
        QCOMPARE(a.tokens, b.tokens);
        QVERIFY(a.tokens != c.tokens);
        QCOMPARE(a.stats.n_prompt, int64_t(24));
        QCOMPARE(a.stats.n_reused, int64_t(0));
        QCOMPARE(a.stats.n_generated, int64_t(16));
        QVERIFY(a.stats.ttft_ms > 0);
        QVERIFY(a.stats.prompt_tps() > 0);
        QVERIFY(a.stats.decode_tps() > 0);
    }
};

QTEST_GUILESS_MAIN(TestSession)
#include "test_session.moc"
