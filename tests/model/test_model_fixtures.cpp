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
};

QTEST_GUILESS_MAIN(TestModelFixtures)
#include "test_model_fixtures.moc"
