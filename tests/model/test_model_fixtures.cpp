// Every shipped fixture model against llama.cpp's own logits (fixtures/README.md "models/"):
//  1. prompt logits (24 positions) within the model's max/rms tolerance, argmax at checkable positions;
//  2. teacher-forced single-token decode rows 1..31 within tolerance, argmax at checkable steps;
//  3. free-running greedy continuation equal to llama.cpp's for the checkable prefix.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <cmath>
#include <fstream>
#include <sstream>

#include "bonsai/model.h"
#include "bonsai/session.h"
#include "test_paths.h"

using namespace bonsai;

namespace {

std::vector<float> read_f32(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
}

std::vector<int32_t> read_ids(const std::string& path) {
    std::ifstream f(path);
    std::vector<int32_t> ids;
    int32_t x;
    while (f >> x) ids.push_back(x);
    return ids;
}

QJsonObject manifest_entry(const QString& name) {
    QFile f(QString::fromStdString(test::fixtures("models/manifest.json")));
    if (!f.open(QIODevice::ReadOnly)) return {};
    const QJsonArray models = QJsonDocument::fromJson(f.readAll()).object().value("models").toArray();
    for (const auto& m : models)
        if (m.toObject().value("model").toString() == name) return m.toObject();
    return {};
}

struct Diff {
    double max_abs = 0, rms = 0;
};

Diff compare(const float* a, const float* b, size_t n) {
    Diff d;
    double ss = 0;
    for (size_t i = 0; i < n; ++i) {
        const double e = std::fabs(static_cast<double>(a[i]) - b[i]);
        d.max_abs = std::max(d.max_abs, std::isfinite(e) ? e : 1e30);
        ss += e * e;
    }
    d.rms = std::sqrt(ss / static_cast<double>(n));
    return d;
}

int32_t argmax(const float* v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return static_cast<int32_t>(best);
}

QSet<int> int_set(const QJsonArray& a) {
    QSet<int> s;
    for (const auto& v : a) s.insert(v.toInt());
    return s;
}

}  // namespace

class TestModelFixtures : public QObject {
    Q_OBJECT
private slots:
    void fixture_data() {
        QTest::addColumn<QString>("name");
        QFile f(QString::fromStdString(test::fixtures("models/manifest.json")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray models = QJsonDocument::fromJson(f.readAll()).object().value("models").toArray();
        int shipped = 0;
        for (const auto& m : models) {
            const QJsonObject o = m.toObject();
            if (!o.value("shipped").toBool()) continue;
            ++shipped;
            const QByteArray n = o.value("model").toString().toUtf8();
            QTest::newRow(n.constData()) << o.value("model").toString();
        }
        QCOMPARE(shipped, 16);
    }

    void fixture() {
        QFETCH(QString, name);
        const QJsonObject m = manifest_entry(name);
        QVERIFY(!m.isEmpty());
        const std::string base = test::fixtures("models/") + name.toStdString();
        const double tol_max = m.value("tolerance").toObject().value("max_abs").toDouble();
        const double tol_rms = m.value("tolerance").toObject().value("rms").toDouble();
        QVERIFY(tol_max > 0 && tol_rms > 0);
        const std::vector<int32_t> tokens = read_ids(test::fixtures("models/tokens.txt"));
        QCOMPARE(tokens.size(), size_t(24));
        const std::vector<float> ref = read_f32(base + ".logits.f32");
        const std::vector<float> ref_greedy = read_f32(base + ".greedy.logits.f32");
        const std::vector<int32_t> greedy = read_ids(base + ".greedy.txt");
        QCOMPARE(greedy.size(), size_t(32));

        ModelParams mp;
        mp.n_threads = 2;
        auto model = Model::load(base + ".gguf", mp);
        const size_t V = static_cast<size_t>(model->n_vocab());
        QCOMPARE(V, size_t(1024));
        QCOMPARE(ref.size(), 24 * V);

        SessionParams sp;
        sp.n_ctx = 512;
        Session s(*model, sp);

        // 1. Prompt.
        QCOMPARE(s.evaluate(tokens, true), int64_t(0));
        QCOMPARE(s.logits_rows(), int64_t(24));
        std::vector<float> got(24 * V);
        for (int64_t i = 0; i < 24; ++i) std::memcpy(got.data() + i * V, s.logits_row(i).data(), V * 4);
        const Diff pd = compare(got.data(), ref.data(), got.size());
        const QSet<int> pos_check = int_set(m.value("prompt_argmax_checkable_positions").toArray());
        int argmax_checked = 0;
        for (int p : pos_check) {
            QCOMPARE(argmax(got.data() + p * V, V), argmax(ref.data() + p * V, V));
            ++argmax_checked;
        }

        // 2. Teacher-forced decode: row k after feeding greedy[k-1].
        const QSet<int> step_check = int_set(m.value("greedy_teacher_forced_checkable_steps").toArray());
        if (step_check.contains(0)) QCOMPARE(argmax(got.data() + 23 * V, V), greedy[0]);
        double dec_max = 0, dec_rms_worst = 0, dec_ss = 0;
        for (int k = 1; k < 32; ++k) {
            const int32_t t = greedy[static_cast<size_t>(k - 1)];
            s.append(std::span<const int32_t>(&t, 1));
            const auto row = s.logits();
            const Diff d = compare(row.data(), ref_greedy.data() + k * V, V);
            dec_max = std::max(dec_max, d.max_abs);
            dec_rms_worst = std::max(dec_rms_worst, d.rms);
            dec_ss += d.rms * d.rms * static_cast<double>(V);
            if (step_check.contains(k))
                QVERIFY2(argmax(row.data(), V) == greedy[static_cast<size_t>(k)],
                         qPrintable(QString("teacher-forced step %1: argmax %2, llama.cpp %3")
                                        .arg(k).arg(argmax(row.data(), V)).arg(greedy[static_cast<size_t>(k)])));
        }
        QCOMPARE(s.tokens().size(), size_t(24 + 31));

        // 3. Free-running greedy through Session::generate.
        const int prefix = m.value("greedy_free_running_checkable_prefix").toInt();
        Session fresh(*model, sp);
        fresh.set_sampling(SamplingParams::greedy(), 0);
        GenerateOptions go;
        go.max_tokens = 32;
        go.stop_at_eog = false;
        const GenerationResult gr = fresh.generate(tokens, go);
        QCOMPARE(gr.tokens.size(), size_t(32));
        for (int i = 0; i < prefix; ++i)
            QVERIFY2(gr.tokens[static_cast<size_t>(i)] == greedy[static_cast<size_t>(i)],
                     qPrintable(QString("free-running step %1 differs").arg(i)));

        qInfo("%s: prompt max %.5f rms %.5f | decode max %.5f worst-row rms %.5f all-rows rms %.5f | tol %.3f/%.4f | "
              "argmax checked %d, greedy prefix %d",
              qPrintable(name), pd.max_abs, pd.rms, dec_max, dec_rms_worst, std::sqrt(dec_ss / (31.0 * V)), tol_max,
              tol_rms, argmax_checked, prefix);
        QVERIFY2(pd.max_abs <= tol_max, qPrintable(QString("prompt max %1 > %2").arg(pd.max_abs).arg(tol_max)));
        QVERIFY2(pd.rms <= tol_rms, qPrintable(QString("prompt rms %1 > %2").arg(pd.rms).arg(tol_rms)));
        QVERIFY2(dec_max <= tol_max, qPrintable(QString("decode max %1 > %2").arg(dec_max).arg(tol_max)));
        QVERIFY2(dec_rms_worst <= tol_rms, qPrintable(QString("decode row rms %1 > %2").arg(dec_rms_worst).arg(tol_rms)));
    }
};

QTEST_GUILESS_MAIN(TestModelFixtures)
#include "test_model_fixtures.moc"
