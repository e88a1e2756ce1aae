#pragma once
// The shared part of the fixture-model tests (tests/model/test_model_fixtures.cpp on the CPU backend,
// tests/vulkan/test_vulkan_model.cpp on Vulkan): reading llama.cpp's reference files
// (fixtures/README.md "models/") and checking a loaded model against them:
//  1. prompt logits (24 positions, one evaluate) within the model's max/rms tolerance, argmax equal at
//     the manifest's checkable positions;
//  2. teacher-forced single-token decode rows 1..31 within tolerance, argmax at the checkable steps.
// Header-only, Qt Test macros: call from a test function, then stop when QTest::currentTestFailed().
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "bonsai/model.h"
#include "bonsai/session.h"
#include "test_paths.h"

namespace bonsai::test {

inline std::vector<float> read_f32(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
}

inline std::vector<int32_t> read_ids(const std::string& path) {
    std::ifstream f(path);
    std::vector<int32_t> ids;
    int32_t x;
    while (f >> x) ids.push_back(x);
    return ids;
}

inline QJsonArray manifest_models() {
    QFile f(QString::fromStdString(fixtures("models/manifest.json")));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object().value("models").toArray();
}

inline QJsonObject manifest_entry(const QString& name) {
    for (const auto& m : manifest_models())
        if (m.toObject().value("model").toString() == name) return m.toObject();
    return {};
}

// Adds one row per shipped fixture model (column "name") and checks that all 16 are there.
inline void add_shipped_fixture_rows() {
    QTest::addColumn<QString>("name");
    int shipped = 0;
    for (const auto& m : manifest_models()) {
        const QJsonObject o = m.toObject();
        if (!o.value("shipped").toBool()) continue;
        ++shipped;
        const QByteArray n = o.value("model").toString().toUtf8();
        QTest::newRow(n.constData()) << o.value("model").toString();
    }
    QCOMPARE(shipped, 16);
}

struct Diff {
    double max_abs = 0, rms = 0;  // non-finite differences count as 1e30
};

inline Diff compare(const float* a, const float* b, size_t n) {
    Diff d;
    double ss = 0;
    for (size_t i = 0; i < n; ++i) {
        const double e = std::fabs(static_cast<double>(a[i]) - b[i]);
        d.max_abs = std::max(d.max_abs, std::isfinite(e) ? e : 1e30);
        ss += std::isfinite(e) ? e * e : 1e30;
    }
    d.rms = std::sqrt(ss / static_cast<double>(n));
    return d;
}

inline int32_t argmax(const float* v, size_t n) {  // ties: lowest id
    size_t best = 0;
    for (size_t i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return static_cast<int32_t>(best);
}

inline QSet<int> int_set(const QJsonArray& a) {
    QSet<int> s;
    for (const auto& v : a) s.insert(v.toInt());
    return s;
}

// One fixture model's reference data.
struct Fixture {
    QString name;
    QJsonObject manifest;               // its entry in models/manifest.json
    std::string base;                   // path without extension
    double tol_max = 0, tol_rms = 0;    // tolerance of logits against llama.cpp
    std::vector<int32_t> tokens;        // the 24-token prompt
    std::vector<float> ref;             // llama.cpp's prompt logits, 24 x 1024
    std::vector<float> ref_greedy;      // its teacher-forced decode logits, 32 x 1024
    std::vector<int32_t> greedy;        // its 32 greedy tokens
    int free_running_prefix = 0;        // greedy tokens that must match when running freely
};

// Reads the fixture `name`; QVERIFY/QCOMPARE failures leave `f` partly filled.
inline void load_fixture(const QString& name, Fixture& f) {
    f.name = name;
    f.manifest = manifest_entry(name);
    QVERIFY(!f.manifest.isEmpty());
    f.base = fixtures("models/") + name.toStdString();
    f.tol_max = f.manifest.value("tolerance").toObject().value("max_abs").toDouble();
    f.tol_rms = f.manifest.value("tolerance").toObject().value("rms").toDouble();
    QVERIFY(f.tol_max > 0 && f.tol_rms > 0);
    f.tokens = read_ids(fixtures("models/tokens.txt"));
    QCOMPARE(f.tokens.size(), size_t(24));
    f.ref = read_f32(f.base + ".logits.f32");
    f.ref_greedy = read_f32(f.base + ".greedy.logits.f32");
    f.greedy = read_ids(f.base + ".greedy.txt");
    QCOMPARE(f.greedy.size(), size_t(32));
    f.free_running_prefix = f.manifest.value("greedy_free_running_checkable_prefix").toInt();
}

struct FixtureStats {
    Diff prompt;                 // over all 24 prompt rows
    double decode_max = 0;       // worst |diff| over the 31 decode rows
    double decode_rms_worst = 0; // worst row rms
    double decode_rms_all = 0;   // rms over all decode rows
    int argmax_checked = 0;      // prompt positions whose argmax was compared
};

// Parts 1 and 2 (see the top of this file) for `model`; argmax mismatches fail at once, the tolerances
// are checked by check_tolerances() (after the caller's own steps, so that its log line comes first).
inline void check_prompt_and_decode(bonsai::Model& model, const Fixture& f, FixtureStats& st) {
    const size_t V = static_cast<size_t>(model.n_vocab());
    QCOMPARE(V, size_t(1024));
    QCOMPARE(f.ref.size(), 24 * V);
    bonsai::SessionParams sp;
    sp.n_ctx = 512;
    bonsai::Session s(model, sp);

    QCOMPARE(s.evaluate(f.tokens, true), int64_t(0));
    QCOMPARE(s.logits_rows(), int64_t(24));
    std::vector<float> got(24 * V);
    for (int64_t i = 0; i < 24; ++i) std::memcpy(got.data() + i * V, s.logits_row(i).data(), V * 4);
    st.prompt = compare(got.data(), f.ref.data(), got.size());
    for (int p : int_set(f.manifest.value("prompt_argmax_checkable_positions").toArray())) {
        QCOMPARE(argmax(got.data() + p * V, V), argmax(f.ref.data() + p * V, V));
        ++st.argmax_checked;
    }

    // Teacher-forced decode: row k after feeding greedy[k-1].
    const QSet<int> step_check = int_set(f.manifest.value("greedy_teacher_forced_checkable_steps").toArray());
    if (step_check.contains(0)) QCOMPARE(argmax(got.data() + 23 * V, V), f.greedy[0]);
    double ss = 0;
    for (int k = 1; k < 32; ++k) {
        const int32_t t = f.greedy[static_cast<size_t>(k - 1)];
        s.append(std::span<const int32_t>(&t, 1));
        const auto row = s.logits();
        const Diff d = compare(row.data(), f.ref_greedy.data() + k * V, V);
        st.decode_max = std::max(st.decode_max, d.max_abs);
        st.decode_rms_worst = std::max(st.decode_rms_worst, d.rms);
        ss += d.rms * d.rms * static_cast<double>(V);
        if (step_check.contains(k))
            QVERIFY2(argmax(row.data(), V) == f.greedy[static_cast<size_t>(k)],
                     qPrintable(QString("teacher-forced step %1: argmax %2, llama.cpp %3")
                                    .arg(k)
                                    .arg(argmax(row.data(), V))
                                    .arg(f.greedy[static_cast<size_t>(k)])));
    }
    st.decode_rms_all = std::sqrt(ss / (31.0 * static_cast<double>(V)));
    QCOMPARE(s.tokens().size(), size_t(24 + 31));
}

// Logs the comparison and checks the prompt and decode rows against the model's tolerances.
inline void check_tolerances(const Fixture& f, const FixtureStats& st) {
    qInfo("%s: prompt max %.5f rms %.5f | decode max %.5f worst-row rms %.5f all-rows rms %.5f | tol %.3f/%.4f | "
          "argmax checked %d, greedy prefix %d",
          qPrintable(f.name), st.prompt.max_abs, st.prompt.rms, st.decode_max, st.decode_rms_worst, st.decode_rms_all,
          f.tol_max, f.tol_rms, st.argmax_checked, f.free_running_prefix);
    QVERIFY2(st.prompt.max_abs <= f.tol_max, qPrintable(QString("prompt max %1 > %2").arg(st.prompt.max_abs).arg(f.tol_max)));
    QVERIFY2(st.prompt.rms <= f.tol_rms, qPrintable(QString("prompt rms %1 > %2").arg(st.prompt.rms).arg(f.tol_rms)));
    QVERIFY2(st.decode_max <= f.tol_max, qPrintable(QString("decode max %1 > %2").arg(st.decode_max).arg(f.tol_max)));
    QVERIFY2(st.decode_rms_worst <= f.tol_rms,
             qPrintable(QString("decode row rms %1 > %2").arg(st.decode_rms_worst).arg(f.tol_rms)));
}

// Free-running greedy continuation of `prompt` (n tokens, end-of-generation ignored).
inline std::vector<int32_t> greedy_run(bonsai::Model& model, const std::vector<int32_t>& prompt, int n) {
    bonsai::SessionParams sp;
    sp.n_ctx = 512;
    bonsai::Session s(model, sp);
    s.set_sampling(bonsai::SamplingParams::greedy(), 0);
    bonsai::GenerateOptions go;
    go.max_tokens = n;
    go.stop_at_eog = false;
    return s.generate(prompt, go).tokens;
}

}  // namespace bonsai::test
