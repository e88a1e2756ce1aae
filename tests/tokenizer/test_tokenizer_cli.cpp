// bonsai-cli tokenize against the fixtures: `--ids TEXT` vs a .out line, `--ids --special --file F`
// vs a .special.out line, the piece listing, and usage errors.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "test_paths.h"
#include "vocab_fixture.h"

class TestTokenizerCli : public QObject {
    Q_OBJECT

    struct Result {
        int code;
        QByteArray out;
        QByteArray err;
    };

    // Runs `bonsai-cli tokenize ARGS...`.
    static Result run(const QStringList& args) {
        QProcess p;
        p.start(QString::fromStdString(bonsai::test::cli()), QStringList{"tokenize"} + args);
        if (!p.waitForFinished(60000)) return {-1, {}, "timeout"};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(), p.readAllStandardError()};
    }

    static QByteArray expected_line(const std::vector<int32_t>& ids) {
        QByteArray s;
        for (size_t i = 0; i < ids.size(); ++i) {
            if (i) s += ' ';
            s += QByteArray::number(ids[i]);
        }
        return s + '\n';
    }

private slots:
    void idsMatchOutLine() {
        // Line 12 of the llama-bpe files: "Hello world" (user text, no BOS).
        const std::string base = "vocab/ggml-vocab-llama-bpe.gguf";
        const auto texts = bonsai::test::read_inp(bonsai::test::fixtures(base + ".inp"));
        const auto out = bonsai::test::read_out(bonsai::test::fixtures(base + ".out"));
        QCOMPARE(texts[11], std::string("Hello world"));
        const Result r = run({QString::fromStdString(bonsai::test::fixtures(base)), "--ids", "Hello world"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, expected_line(out[11]));
    }

    void specialFileMatchesSpecialOutLine() {
        // The last text of llama-bpe (newlines, tabs, emoji, apostrophes) from a file, with BOS.
        const std::string base = "vocab/ggml-vocab-llama-bpe.gguf";
        const auto texts = bonsai::test::read_inp(bonsai::test::fixtures(base + ".inp"));
        const auto out = bonsai::test::read_out(bonsai::test::fixtures(base + ".special.out"));
        QTemporaryDir dir;
        const QString path = dir.filePath("text.txt");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::fromStdString(texts[45]));
        f.close();
        const Result r = run({QString::fromStdString(bonsai::test::fixtures(base)), "--ids", "--special", "--file", path});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, expected_line(out[45]));
        QCOMPARE(out[45].front(), 128000);  // BOS came from the metadata
    }

    void emptyTextGivesEmptyLine() {
        const Result r = run({QString::fromStdString(bonsai::test::fixtures("vocab/ggml-vocab-qwen2.gguf")), "--ids", ""});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("\n"));
    }

    void pieceListing() {
        // qwen2 .out line 8 is "\n" -> 198; line 30 " (" -> 320. The listing shows "id<TAB>piece".
        const auto out = bonsai::test::read_out(bonsai::test::fixtures("vocab/ggml-vocab-qwen2.gguf.out"));
        QCOMPARE(out[7].size(), size_t{1});
        const Result r =
            run({QString::fromStdString(bonsai::test::fixtures("vocab/ggml-vocab-qwen2.gguf")), "--special", "a\n<|im_end|>"});
        QCOMPARE(r.code, 0);
        const QList<QByteArray> lines = r.out.split('\n');
        QCOMPARE(lines.size(), 4);  // three tokens + the empty string after the final newline
        QVERIFY(lines[0].endsWith("\ta"));
        QCOMPARE(lines[1], QByteArray::number(out[7][0]) + "\t\\n");
        QCOMPARE(lines[2], QByteArray("151645\t<|im_end|>"));
    }

    void usageAndFileErrors() {
        QCOMPARE(run({}).code, 2);
        const QString model = QString::fromStdString(bonsai::test::fixtures("vocab/ggml-vocab-qwen2.gguf"));
        QCOMPARE(run({model}).code, 2);
        const Result missing = run({model, "--file", "/nonexistent/x.txt"});
        QCOMPARE(missing.code, 1);
        QVERIFY(missing.err.contains("/nonexistent/x.txt"));
        const Result bad = run({"/nonexistent/model.gguf", "hi"});
        QCOMPARE(bad.code, 1);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerCli)
#include "test_tokenizer_cli.moc"
