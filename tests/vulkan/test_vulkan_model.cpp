// The whole forward pass on the Vulkan backend (--backend vulkan; lavapipe in CI) against llama.cpp's
// fixture logits (fixtures/README.md "models/"), with the Khronos validation layer on:
//  1. prompt logits (24 positions, one batch: matmul + causal attention) within the model's max/rms
//     tolerance, argmax equal at the checkable positions;
//  2. teacher-forced single-token decode (matvec path) rows 1..31 within tolerance, argmax at the
//     checkable steps;
//  3. free-running greedy equal to llama.cpp's and to the CPU backend's for the checkable prefix;
//  4. zero validation messages.
// Plus the backend policy: Auto stays on the CPU without a GPU, a bad device falls back to the CPU.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <fstream>

#include "bonsai/model.h"
#include "bonsai/session.h"
#include "bonsai/vulkan_backend.h"
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

QJsonArray manifest_models() {
    QFile f(QString::fromStdString(test::fixtures("models/manifest.json")));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object().value("models").toArray();
}

QJsonObject manifest_entry(const QString& name) {
    for (const auto& m : manifest_models())
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
        ss += std::isfinite(e) ? e * e : 1e30;
    }
    d.rms = std::sqrt(ss / static_cast<double>(n));
    return d;
}

int32_t argmax(const float* v, size_t n) {  // ties: lowest id
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

std::vector<int32_t> greedy_run(Model& model, const std::vector<int32_t>& prompt, int n) {
    SessionParams sp;
    sp.n_ctx = 512;
    Session s(model, sp);
    s.set_sampling(SamplingParams::greedy(), 0);
    GenerateOptions go;
    go.max_tokens = n;
    go.stop_at_eog = false;
    return s.generate(prompt, go).tokens;
}

}  // namespace

class TestVulkanModel : public QObject {
    Q_OBJECT
    bool have_device_ = false;
    uint64_t messages_at_start_ = 0;

private slots:
    void initTestCase() {
        have_device_ = !list_vulkan_devices().empty();
        if (!have_device_) QSKIP("no Vulkan device on this machine");
    }
    void init() { messages_at_start_ = vulkan_validation_messages_total(); }
    void cleanup() { QCOMPARE(vulkan_validation_messages_total() - messages_at_start_, uint64_t(0)); }

    void fixture_data() {
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
        mp.backend = Backend::Vulkan;
        mp.n_threads = 2;
        auto model = Model::load(base + ".gguf", mp);
        // BF16 has no shader yet: that model must fall back to the CPU (and still be right).
        const bool expect_vulkan = name.indexOf("BF16") < 0;
        QCOMPARE(model->backend() == Backend::Vulkan, expect_vulkan);
        const size_t V = static_cast<size_t>(model->n_vocab());
        QCOMPARE(V, size_t(1024));
        QCOMPARE(ref.size(), 24 * V);

        SessionParams sp;
        sp.n_ctx = 512;
        Session s(*model, sp);

        // 1. Prompt in one batch.
        QCOMPARE(s.evaluate(tokens, true), int64_t(0));
        QCOMPARE(s.logits_rows(), int64_t(24));
        std::vector<float> got(24 * V);
        for (int64_t i = 0; i < 24; ++i) std::memcpy(got.data() + i * V, s.logits_row(i).data(), V * 4);
        const Diff pd = compare(got.data(), ref.data(), got.size());
        int argmax_checked = 0;
        for (int p : int_set(m.value("prompt_argmax_checkable_positions").toArray())) {
            QCOMPARE(argmax(got.data() + p * V, V), argmax(ref.data() + p * V, V));
            ++argmax_checked;
        }

        // 2. Teacher-forced single-token decode.
        const QSet<int> step_check = int_set(m.value("greedy_teacher_forced_checkable_steps").toArray());
        if (step_check.contains(0)) QCOMPARE(argmax(got.data() + 23 * V, V), greedy[0]);
        double dec_max = 0, dec_rms_worst = 0;
        for (int k = 1; k < 32; ++k) {
            const int32_t t = greedy[static_cast<size_t>(k - 1)];
            s.append(std::span<const int32_t>(&t, 1));
            const auto row = s.logits();
            const Diff d = compare(row.data(), ref_greedy.data() + k * V, V);
            dec_max = std::max(dec_max, d.max_abs);
            dec_rms_worst = std::max(dec_rms_worst, d.rms);
            if (step_check.contains(k))
                QVERIFY2(argmax(row.data(), V) == greedy[static_cast<size_t>(k)],
                         qPrintable(QString("teacher-forced step %1: argmax %2, llama.cpp %3")
                                        .arg(k).arg(argmax(row.data(), V)).arg(greedy[static_cast<size_t>(k)])));
        }

        // 3. Free-running greedy: llama.cpp's and the CPU backend's tokens for the checkable prefix.
        const int prefix = m.value("greedy_free_running_checkable_prefix").toInt();
        const std::vector<int32_t> vk_tokens = greedy_run(*model, tokens, 32);
        ModelParams cpu_params;
        cpu_params.backend = Backend::Cpu;
        cpu_params.n_threads = 2;
        auto cpu_model = Model::load(base + ".gguf", cpu_params);
        QCOMPARE(cpu_model->backend(), Backend::Cpu);
        const std::vector<int32_t> cpu_tokens = greedy_run(*cpu_model, tokens, prefix);
        QCOMPARE(vk_tokens.size(), size_t(32));
        for (int i = 0; i < prefix; ++i) {
            QVERIFY2(vk_tokens[static_cast<size_t>(i)] == greedy[static_cast<size_t>(i)],
                     qPrintable(QString("free-running step %1 differs from llama.cpp").arg(i)));
            QVERIFY2(vk_tokens[static_cast<size_t>(i)] == cpu_tokens[static_cast<size_t>(i)],
                     qPrintable(QString("free-running step %1 differs from the CPU backend").arg(i)));
        }

        qInfo("%s: prompt max %.5f rms %.5f | decode max %.5f worst-row rms %.5f | tol %.3f/%.4f | argmax checked %d, "
              "greedy prefix %d",
              qPrintable(name), pd.max_abs, pd.rms, dec_max, dec_rms_worst, tol_max, tol_rms, argmax_checked, prefix);
        QVERIFY2(pd.max_abs <= tol_max, qPrintable(QString("prompt max %1 > %2").arg(pd.max_abs).arg(tol_max)));
        QVERIFY2(pd.rms <= tol_rms, qPrintable(QString("prompt rms %1 > %2").arg(pd.rms).arg(tol_rms)));
        QVERIFY2(dec_max <= tol_max, qPrintable(QString("decode max %1 > %2").arg(dec_max).arg(tol_max)));
        QVERIFY2(dec_rms_worst <= tol_rms, qPrintable(QString("decode row rms %1 > %2").arg(dec_rms_worst).arg(tol_rms)));
    }

    // A prompt split over several batches (n_batch 5: batches at positions 0, 5, ...) must give the
    // same last-row logits as one batch, within the model's tolerance against llama.cpp.
    void promptInSeveralBatches() {
        const std::string base = test::fixtures("models/qwen3-e256-Q1_0");
        const QJsonObject m = manifest_entry("qwen3-e256-Q1_0");
        const double tol_max = m.value("tolerance").toObject().value("max_abs").toDouble();
        const std::vector<int32_t> tokens = read_ids(test::fixtures("models/tokens.txt"));
        const std::vector<float> ref = read_f32(base + ".logits.f32");
        ModelParams mp;
        mp.backend = Backend::Vulkan;
        auto model = Model::load(base + ".gguf", mp);
        QCOMPARE(model->backend(), Backend::Vulkan);
        SessionParams sp;
        sp.n_ctx = 64;
        sp.n_batch = 5;
        Session s(*model, sp);
        s.evaluate(tokens, true);
        QCOMPARE(s.logits_rows(), int64_t(24));
        const size_t V = 1024;
        for (int64_t i = 0; i < 24; ++i) {
            const Diff d = compare(s.logits_row(i).data(), ref.data() + i * V, V);
            QVERIFY2(d.max_abs <= tol_max, qPrintable(QString("row %1: max %2").arg(i).arg(d.max_abs)));
        }
    }

    // Split-KV decoding attention (attention + attention_combine) in the whole model: with 8 keys per
    // split, the teacher-forced decode steps (25..55 cache positions) take that path; every row must
    // stay within the model's tolerance against llama.cpp, like the default path in fixture().
    void splitKvDecode() {
        const QByteArray old = qgetenv("BONSAI_VULKAN_ATTENTION_SPLIT");
        qputenv("BONSAI_VULKAN_ATTENTION_SPLIT", "8");
        const std::string base = test::fixtures("models/qwen3-e256-Q2_0");
        ModelParams mp;
        mp.backend = Backend::Vulkan;
        std::unique_ptr<Model> model;
        try {
            model = Model::load(base + ".gguf", mp);
        } catch (...) {
        }
        if (old.isNull()) qunsetenv("BONSAI_VULKAN_ATTENTION_SPLIT");
        else qputenv("BONSAI_VULKAN_ATTENTION_SPLIT", old);
        QVERIFY(model != nullptr);
        QCOMPARE(model->backend(), Backend::Vulkan);
        const QJsonObject m = manifest_entry("qwen3-e256-Q2_0");
        const double tol_max = m.value("tolerance").toObject().value("max_abs").toDouble();
        const double tol_rms = m.value("tolerance").toObject().value("rms").toDouble();
        const std::vector<int32_t> tokens = read_ids(test::fixtures("models/tokens.txt"));
        const std::vector<float> ref_greedy = read_f32(base + ".greedy.logits.f32");
        const std::vector<int32_t> greedy = read_ids(base + ".greedy.txt");
        QCOMPARE(greedy.size(), size_t(32));
        const size_t V = 1024;
        SessionParams sp;
        sp.n_ctx = 64;
        Session s(*model, sp);
        s.evaluate(tokens);
        for (int k = 1; k < 32; ++k) {
            const int32_t t = greedy[static_cast<size_t>(k - 1)];
            s.append(std::span<const int32_t>(&t, 1));
            const Diff d = compare(s.logits().data(), ref_greedy.data() + k * V, V);
            QVERIFY2(d.max_abs <= tol_max && d.rms <= tol_rms,
                     qPrintable(QString("step %1: max %2 rms %3").arg(k).arg(d.max_abs).arg(d.rms)));
        }
    }

    // Auto uses Vulkan only for a GPU; with lavapipe alone it stays on the CPU.
    void autoPicksGpuOnly() {
        bool gpu = false;
        for (const auto& d : list_vulkan_devices()) gpu = gpu || (d.suitable && d.type != "cpu");
        auto model = Model::load(test::fixtures("models/qwen3-e256-Q1_0.gguf"));
        QCOMPARE(model->backend() == Backend::Vulkan, gpu);
    }

    // An unusable device (here: a name that matches none) falls back to the CPU, which still works.
    void badDeviceFallsBackToCpu() {
        const QByteArray old = qgetenv("BONSAI_VULKAN_DEVICE");
        qputenv("BONSAI_VULKAN_DEVICE", "no-such-device-xyz");
        ModelParams mp;
        mp.backend = Backend::Vulkan;
        std::unique_ptr<Model> model;
        try {
            model = Model::load(test::fixtures("models/qwen3-e256-Q1_0.gguf"), mp);
        } catch (...) {
        }
        if (old.isNull()) qunsetenv("BONSAI_VULKAN_DEVICE");
        else qputenv("BONSAI_VULKAN_DEVICE", old);
        QVERIFY(model != nullptr);
        QCOMPARE(model->backend(), Backend::Cpu);
        const std::vector<int32_t> tokens = read_ids(test::fixtures("models/tokens.txt"));
        const std::vector<int32_t> greedy = read_ids(test::fixtures("models/qwen3-e256-Q1_0.greedy.txt"));
        QCOMPARE(greedy_run(*model, tokens, 1).at(0), greedy.at(0));
    }
};

QTEST_GUILESS_MAIN(TestVulkanModel)
#include "test_vulkan_model.moc"
