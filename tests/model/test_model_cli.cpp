// bonsai-cli run / synth / perplexity through the built binary: greedy ids equal llama.cpp's greedy
// continuation of a fixture model, --logits-out equals llama.cpp's prompt logits within tolerance,
// synth writes a loadable synthetic model, and usage errors exit with 2.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <fstream>

#include "test_paths.h"

namespace {

struct Out {
    int code;
    QString out, err;
};

// Runs bonsai-cli; `env` adds NAME=value entries to its environment.
Out cli(const QStringList& args, const QStringList& env = {}) {
    QProcess p;
    QProcessEnvironment pe = QProcessEnvironment::systemEnvironment();
    for (const QString& e : env) pe.insert(e.section('=', 0, 0), e.section('=', 1));
    p.setProcessEnvironment(pe);
    p.start(QString::fromStdString(bonsai::test::cli()), args);
    p.waitForFinished(120000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

QString fixture(const char* rel) { return QString::fromStdString(bonsai::test::fixtures(std::string("models/") + rel)); }

QString read_text(const QString& path) {
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return QString::fromUtf8(f.readAll()).trimmed();
}

}  // namespace

class TestModelCli : public QObject {
    Q_OBJECT
private slots:
    void run_greedy_ids_match_llama_cpp() {
        const Out r = cli({"run", "-m", fixture("qwen3-e256-F32.gguf"), "--tokens", read_text(fixture("tokens.txt")), "-n",
                           "12", "--temp", "0", "--print-ids", "-t", "2"});
        QCOMPARE(r.code, 0);
        // The checkable prefix of this model is 12 tokens (manifest.json).
        const QStringList want = read_text(fixture("qwen3-e256-F32.greedy.txt")).split(' ').mid(0, 12);
        QCOMPARE(r.out.trimmed().split(' '), want);
    }

    void logits_out_matches_llama_cpp() {
        QTemporaryDir dir;
        const QString out = dir.filePath("l.f32");
        const Out r = cli({"run", "-m", fixture("llama-e256-F32.gguf"), "--tokens", read_text(fixture("tokens.txt")), "-n",
                           "0", "--logits-out", out});
        QCOMPARE(r.code, 0);
        std::ifstream a(out.toStdString(), std::ios::binary), b(fixture("llama-e256-F32.logits.f32").toStdString(), std::ios::binary);
        std::vector<float> x(24 * 1024), y(24 * 1024);
        a.read(reinterpret_cast<char*>(x.data()), static_cast<std::streamsize>(x.size() * 4));
        b.read(reinterpret_cast<char*>(y.data()), static_cast<std::streamsize>(y.size() * 4));
        QVERIFY(a && b);
        double mx = 0;
        for (size_t i = 0; i < x.size(); ++i) mx = std::max(mx, std::fabs(double(x[i]) - y[i]));
        QVERIFY2(mx <= 0.015, qPrintable(QString::number(mx)));
    }

    void synth_writes_a_synthetic_model() {
        QTemporaryDir dir;
        const QString path = dir.filePath("tiny.gguf");
        Out r = cli({"synth", "--preset", "tiny", "--type", "TQ2_0", "-o", path, "--vocab", fixture("qwen3-e256-F32.gguf")});
        QCOMPARE(r.code, 0);
        r = cli({"run", "-m", path, "-p", "The fox", "-n", "3", "--self-test", "--seed", "1"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.err.contains("synthetic"), qPrintable(r.err));
        r = cli({"perplexity", "-m", path, "-f", fixture("vocab1024.inp"), "-c", "64"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith("perplexity: "));
    }

    // bench: JSON fields, and -d D puts D tokens in the KV cache before the timed runs: the bytes it
    // counts per decoded token grow by exactly D positions of K and V (2 layers x 2 KV heads x 64 dims
    // x 2 bytes, twice), and the text output names the depth. Speed itself is not asserted.
    void bench_depth_counts_the_context() {
        auto bench = [&](const QString& depth, bool json) {
            QStringList a{"bench", "-m", fixture("qwen3-e256-Q1_0.gguf"), "-p", "8", "-n", "4", "-r", "1", "-t", "2", "-d", depth};
            if (json) a << "--json";
            const Out r = cli(a);
            if (r.code != 0) qWarning("%s", qPrintable(r.err));
            return r;
        };
        const Out r0 = bench("0", true), r40 = bench("40", true);
        QCOMPARE(r0.code, 0);
        QCOMPARE(r40.code, 0);
        const QJsonObject j0 = QJsonDocument::fromJson(r0.out.toUtf8()).object(),
                          j40 = QJsonDocument::fromJson(r40.out.toUtf8()).object();
        QCOMPARE(j0.value("depth").toInt(-1), 0);
        QCOMPARE(j40.value("depth").toInt(-1), 40);
        for (const QJsonObject& j : {j0, j40}) {
            QVERIFY2(j.value("pp_tok_s").toDouble() > 0 && j.value("tg_tok_s").toDouble() > 0, qPrintable(r40.out));
            QVERIFY(j.value("roofline_tok_s").toDouble() > 0);
            // The CPU backend names its kernels (the family first, then what AMX adds or why not).
            const QString kernels = j.value("cpu_kernels").toString();
            QVERIFY2(kernels.startsWith("scalar, ") || kernels.startsWith("avx2, ") || kernels.startsWith("avx512-vnni"),
                     qPrintable(r0.out));
            QVERIFY2(kernels.contains("AMX"), qPrintable(kernels));
            // The bandwidth is measured before and after the one decode repetition; the percentage
            // compares it with the mean of those two.
            QCOMPARE(j.value("bandwidth_measurements").toInt(), 2);
            const double lo = j.value("bandwidth_min_gb_s").toDouble(), hi = j.value("bandwidth_max_gb_s").toDouble(),
                         mean = j.value("bandwidth_gb_s").toDouble();
            QVERIFY2(lo > 0 && lo <= mean && mean <= hi, qPrintable(r0.out));
            const double pct = j.value("tg_roofline_pct").toDouble();
            QVERIFY2(std::fabs(pct - 100.0 * j.value("tg_tok_s").toDouble() / j.value("roofline_tok_s").toDouble()) < 1e-6 * pct,
                     qPrintable(r0.out));  // one repetition: its bandwidth is the mean
        }
        QCOMPARE(j40.value("bytes_per_token").toDouble() - j0.value("bytes_per_token").toDouble(), 2.0 * 2 * 2 * 64 * 2 * 40);
        const Out t = bench("40", false);
        QCOMPARE(t.code, 0);
        QVERIFY2(t.out.contains("pp8 @ d40:") && t.out.contains("tg4 @ d40:"), qPrintable(t.out));
        QVERIFY2(t.out.contains("\ncpu kernels: "), qPrintable(t.out));
        QCOMPARE(bench("-1", true).code, 2);
    }

    void errors() {
        QCOMPARE(cli({"run", "-m", fixture("qwen3-e256-F32.gguf")}).code, 2);  // neither -p nor --tokens
        QCOMPARE(cli({"synth", "--preset", "huge", "--type", "Q1_0", "-o", "/dev/null"}).code, 2);
        const Out r = cli({"run", "-m", "/nonexistent.gguf", "-p", "x"});
        QCOMPARE(r.code, 1);
        // A Vulkan device that cannot be used (here: a name that matches none): the model falls back to
        // the CPU with one clear line and still runs.
        const Out v = cli({"run", "-m", fixture("qwen3-e256-BF16.gguf"), "--tokens", "1 2", "-n", "1", "--backend", "vulkan"},
                          {"BONSAI_VULKAN_DEVICE=no-such-device-xyz"});
        QCOMPARE(v.code, 0);
        QVERIFY2(v.err.contains("Vulkan backend not used") && v.err.contains("running on the CPU"), qPrintable(v.err));
        QCOMPARE(v.err.count("Vulkan backend not used"), 1);
    }
};

QTEST_GUILESS_MAIN(TestModelCli)
#include "test_model_cli.moc"
