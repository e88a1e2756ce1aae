// Every shipped fixture model against llama.cpp's own logits (fixtures/README.md "models/"):
//  1. prompt logits (24 positions) within the model's max/rms tolerance, argmax at checkable positions;
//  2. teacher-forced single-token decode rows 1..31 within tolerance, argmax at checkable steps;
//  3. free-running greedy continuation equal to llama.cpp's for the checkable prefix.
#include <QtTest>

#include "bonsai/model.h"
#include "fixture_check.h"

using namespace bonsai;

class TestModelFixtures : public QObject {
    Q_OBJECT
private slots:
    void fixture_data() { test::add_shipped_fixture_rows(); }

    void fixture() {
        QFETCH(QString, name);
        test::Fixture f;
        test::load_fixture(name, f);
        if (QTest::currentTestFailed()) return;
        ModelParams mp;
        mp.n_threads = 2;
        auto model = Model::load(f.base + ".gguf", mp);

        // 1 and 2: prompt and teacher-forced decode against llama.cpp's logits.
        test::FixtureStats st;
        test::check_prompt_and_decode(*model, f, st);
        if (QTest::currentTestFailed()) return;

        // 3. Free-running greedy through Session::generate.
        const std::vector<int32_t> tokens = test::greedy_run(*model, f.tokens, 32);
        QCOMPARE(tokens.size(), size_t(32));
        for (int i = 0; i < f.free_running_prefix; ++i)
            QVERIFY2(tokens[static_cast<size_t>(i)] == f.greedy[static_cast<size_t>(i)],
                     qPrintable(QString("free-running step %1 differs").arg(i)));
        test::check_tolerances(f, st);
    }

    // The CPU backend's results do not depend on how many threads split the work: matmul rows, guided
    // prompt chunks, and a prompt's row operations (norms, RoPE, gating, quantization) split over the
    // pool must give bit-identical prompt logits with 1, 2 and 3 threads.
    void thread_count_does_not_change_logits_data() { test::add_shipped_fixture_rows(); }

    void thread_count_does_not_change_logits() {
        QFETCH(QString, name);
        test::Fixture f;
        test::load_fixture(name, f);
        if (QTest::currentTestFailed()) return;
        std::vector<float> first;
        for (int threads : {1, 2, 3}) {
            ModelParams mp;
            mp.n_threads = threads;
            mp.backend = Backend::Cpu;
            auto model = Model::load(f.base + ".gguf", mp);
            SessionParams sp;
            sp.n_ctx = 512;
            Session s(*model, sp);
            QCOMPARE(s.evaluate(f.tokens, true), int64_t(0));
            std::vector<float> got;
            for (int64_t i = 0; i < s.logits_rows(); ++i) {
                const auto row = s.logits_row(i);
                got.insert(got.end(), row.begin(), row.end());
            }
            if (first.empty()) {
                first = got;
            } else {
                QVERIFY2(got == first, qPrintable(QString("%1 threads: prompt logits differ from 1 thread").arg(threads)));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestModelFixtures)
#include "test_model_fixtures.moc"
