// bonsai-cli inspect / dequant on real fixtures, run as a separate process: text and JSON output carry
// the tensor table (checked against the fixture README's shapes), dequant writes llama.cpp's exact floats,
// and a bad file exits 1 with the reader's message.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "test_paths.h"

class TestGgufCli : public QObject {
    Q_OBJECT

    struct Result {
        int code;
        QByteArray out;
        QString err;
    };

    static Result run(const QStringList& args) {
        QProcess p;
        p.start(QString::fromStdString(bonsai::test::cli()), args);
        if (!p.waitForFinished(60000)) return {-1, {}, QStringLiteral("timeout")};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(),
                QString::fromUtf8(p.readAllStandardError())};
    }
    static QString fixture(const std::string& rel) { return QString::fromStdString(bonsai::test::fixtures(rel)); }

private slots:
    void inspectTextShowsTensorsAndTotals() {
        const Result r = run({"inspect", fixture("models/qwen3-e256-Q1_0.gguf")});
        QCOMPARE(r.code, 0);
        const QString out = QString::fromUtf8(r.out);
        QVERIFY2(out.contains("general.architecture [STRING] = \"qwen3\""), qPrintable(out.left(2000)));
        // 1024-token vocabulary abbreviated to its first elements plus the total.
        QVERIFY(out.contains("tokenizer.ggml.tokens [ARRAY] = [STRING x 1024]"));
        QVERIFY(out.contains("... (1024 total)"));
        QVERIFY(out.contains("tensors (25):"));
        QVERIFY(out.contains("totals: 25 tensors"));
        // blk.0.ffn_down.weight: Q1_0 [768, 256] = 6 blocks x 18 bytes x 256 rows.
        const QRegularExpression row("blk\\.0\\.ffn_down\\.weight\\s+Q1_0\\s+\\[768, 256\\]\\s+27648\\b");
        QVERIFY2(row.match(out).hasMatch(), qPrintable(out.right(3000)));
    }

    void inspectJsonParses() {
        const Result r = run({"inspect", "--json", fixture("models/bitnet-e256-TQ2_0.gguf")});
        QCOMPARE(r.code, 0);
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(r.out, &pe);
        QVERIFY2(pe.error == QJsonParseError::NoError, qPrintable(pe.errorString()));
        const QJsonObject o = doc.object();
        QCOMPARE(o["totals"].toObject()["tensors"].toInt(), 38);
        QCOMPARE(o["tensors"].toArray().size(), 38);
        QCOMPARE(o["metadata"].toObject()["general.architecture"].toObject()["value"].toString(), QString("bitnet"));
        const QJsonObject tokens = o["metadata"].toObject()["tokenizer.ggml.tokens"].toObject();
        QCOMPARE(tokens["count"].toInt(), 1024);
        QCOMPARE(tokens["head"].toArray().size(), 8);
        bool found = false;
        for (const auto& v : o["tensors"].toArray()) {
            const QJsonObject t = v.toObject();
            if (t["name"].toString() == "token_embd.weight") {
                QCOMPARE(t["type"].toString(), QString("F16"));
                QCOMPARE(t["shape"].toArray(), (QJsonArray{256, 1024}));
                QCOMPARE(t["bytes"].toInteger(), qint64(256 * 1024 * 2));
                found = true;
            }
            if (t["name"].toString() == "blk.1.ffn_down.weight") {
                QCOMPARE(t["type"].toString(), QString("TQ2_0"));
                QCOMPARE(t["shape"].toArray(), (QJsonArray{512, 256}));
            }
        }
        QVERIFY(found);
    }

    void dequantWritesLlamaCppFloats() {
        QTemporaryDir dir;
        const QString out = dir.filePath("q2.f32");
        const Result r = run({"dequant", fixture("dequant/Q2_0.gguf"), "c_768x2", "--out", out});
        QCOMPARE(r.code, 0);
        QFile got(out), want(fixture("dequant/Q2_0.c_768x2.f32"));
        QVERIFY(got.open(QIODevice::ReadOnly) && want.open(QIODevice::ReadOnly));
        const QByteArray a = got.readAll(), b = want.readAll();
        QCOMPARE(a.size(), 768 * 2 * 4);
        QVERIFY(a == b);
    }

    void dequantUnknownTensorFails() {
        QTemporaryDir dir;
        const Result r = run({"dequant", fixture("dequant/Q2_0.gguf"), "nope", "--out", dir.filePath("x.f32")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("no tensor named 'nope'"), qPrintable(r.err));
        QCOMPARE(run({"dequant", fixture("dequant/Q2_0.gguf"), "c_768x2"}).code, 2);  // --out missing
    }

    void badFileExitsOneWithReadableMessage() {
        QTemporaryDir dir;
        const QString path = dir.filePath("bad.gguf");
        QFile src(fixture("models/qwen3-e256-Q1_0.gguf"));
        QVERIFY(src.open(QIODevice::ReadOnly));
        QByteArray bytes = src.read(5000);  // truncated in the middle of the metadata
        QFile dst(path);
        QVERIFY(dst.open(QIODevice::WriteOnly));
        dst.write(bytes);
        dst.close();
        Result r = run({"inspect", path});
        QCOMPARE(r.code, 1);
        // The reader names the file, the field and its byte offset.
        QVERIFY2(r.err.contains("bad.gguf: metadata key 'tokenizer.ggml.tokens' at byte") && r.err.contains("cannot fit"),
                 qPrintable(r.err));
        QVERIFY(!r.err.contains("terminate"));
        bytes[0] = 'X';
        QVERIFY(dst.open(QIODevice::WriteOnly));
        dst.write(bytes);
        dst.close();
        r = run({"inspect", "--json", path});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("bad magic"), qPrintable(r.err));
        QCOMPARE(run({"inspect"}).code, 2);
    }
};

QTEST_GUILESS_MAIN(TestGgufCli)
#include "test_gguf_cli.moc"
