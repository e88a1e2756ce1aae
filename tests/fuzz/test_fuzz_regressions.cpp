// Replays every seed-corpus file (tests/fuzz/corpus/<target>/) and every regression file
// (tests/fuzz/regressions/<target>/: inputs that once crashed, hung or broke an invariant) through the
// same per-input functions the libFuzzer targets run (fuzz_<target>.cpp). A finding aborts the process
// with the broken invariant on stderr, so this test fails when any fixed bug comes back.
//
// Also checks that the seeds are what they claim to be (the fixture-derived GGUFs open, the built-in
// plugin manifests and the example requests are accepted), so the corpus keeps reaching deep code.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtTest>

#include <cstdint>
#include <iterator>
#include <string>

#include "bonsai/gguf.h"
#include "bonsai/tokenizer.h"
#include "host/manifest.h"
#include "request_parser.h"

int bonsai_fuzz_gguf(const uint8_t*, size_t);
int bonsai_fuzz_tokenizer(const uint8_t*, size_t);
int bonsai_fuzz_chat_template(const uint8_t*, size_t);
int bonsai_fuzz_manifest(const uint8_t*, size_t);
int bonsai_fuzz_server_request(const uint8_t*, size_t);
int bonsai_fuzz_storage_import(const uint8_t*, size_t);

namespace {

using FuzzFn = int (*)(const uint8_t*, size_t);

struct Target {
    const char* name;
    FuzzFn fn;
};

const Target kTargets[] = {
    {"gguf", bonsai_fuzz_gguf},
    {"tokenizer", bonsai_fuzz_tokenizer},
    {"chat_template", bonsai_fuzz_chat_template},
    {"manifest", bonsai_fuzz_manifest},
    {"server_request", bonsai_fuzz_server_request},
    {"storage_import", bonsai_fuzz_storage_import},
};

QString fuzzDir(const QString& rel) { return QStringLiteral(BONSAI_FUZZ_DIR "/") + rel; }

QStringList filesIn(const QString& dir) {
    QStringList out;
    const QDir d(dir);
    for (const QString& name : d.entryList(QDir::Files, QDir::Name))
        if (!name.startsWith(QLatin1Char('.')) && name != QLatin1String("README.md")) out << d.filePath(name);
    return out;
}

QByteArray readFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

}  // namespace

class TestFuzzRegressions : public QObject {
    Q_OBJECT

private slots:
    void replay_data() {
        QTest::addColumn<int>("target");
        QTest::addColumn<QString>("path");
        for (int t = 0; t < static_cast<int>(std::size(kTargets)); ++t) {
            for (const char* kind : {"corpus", "regressions"}) {
                const QString dir = fuzzDir(QStringLiteral("%1/%2").arg(QLatin1String(kind), QLatin1String(kTargets[t].name)));
                for (const QString& path : filesIn(dir))
                    QTest::newRow(qPrintable(QStringLiteral("%1/%2/%3").arg(QLatin1String(kind), QLatin1String(kTargets[t].name), QFileInfo(path).fileName())))
                        << t << path;
            }
        }
    }

    // Every corpus and regression file through its target (an abort here names the broken invariant).
    void replay() {
        QFETCH(int, target);
        QFETCH(QString, path);
        QFile f(path);
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(path));
        const QByteArray bytes = f.readAll();
        QCOMPARE(kTargets[target].fn(reinterpret_cast<const uint8_t*>(bytes.constData()), static_cast<size_t>(bytes.size())), 0);
    }

    // Every target has seeds (an emptied corpus folder would make replay() pass vacuously).
    void everyTargetHasSeeds() {
        for (const Target& t : kTargets)
            QVERIFY2(filesIn(fuzzDir(QStringLiteral("corpus/") + QLatin1String(t.name))).size() >= 3, t.name);
    }

    // The GGUF seeds are valid files (so mutations start from deep inside the reader).
    void ggufSeedsOpen() {
        const QStringList files = filesIn(fuzzDir(QStringLiteral("corpus/gguf")));
        QVERIFY(files.size() >= 8);
        for (const QString& path : files) {
            const QByteArray b = readFile(path);
            try {
                auto g = bonsai::gguf::GgufFile::from_memory(reinterpret_cast<const uint8_t*>(b.constData()), static_cast<size_t>(b.size()));
                QVERIFY2(!g->metadata().empty(), qPrintable(path));
                // The vocab seeds carry working tokenizer metadata of both models (gpt2 and llama).
                if (QFileInfo(path).fileName().startsWith(QLatin1String("vocab-"))) {
                    auto tok = bonsai::Tokenizer::from_gguf(*g);
                    QCOMPARE(tok->decode(tok->encode("the cab", false, false)), std::string(tok->model() == bonsai::Tokenizer::Model::SentencePiece ? " the cab" : "the cab"));
                }
            } catch (const bonsai::Error& e) {
                QFAIL(qPrintable(path + QStringLiteral(": ") + QString::fromUtf8(e.what())));
            }
        }
    }

    // The built-in plugin manifests are accepted; the seed with a '../' main is refused with a message.
    void manifestSeeds() {
        for (const char* name : {"codehelp.json", "translate.json", "native.json", "minimal.json"}) {
            const auto r = bonsai::plugins::parseManifest(readFile(fuzzDir(QStringLiteral("corpus/manifest/")) + QLatin1String(name)));
            QVERIFY2(r.manifest.has_value(), qPrintable(QLatin1String(name) + QStringLiteral(": ") + r.error));
        }
        const auto bad = bonsai::plugins::parseManifest(readFile(fuzzDir(QStringLiteral("corpus/manifest/bad-main.json"))));
        QVERIFY(!bad.manifest.has_value());
        QVERIFY(bad.error.contains(QLatin1String("main")));
    }

    // The request seeds parse as documented (values from the JSON files themselves).
    void serverRequestSeeds() {
        using namespace bonsai::server;
        const RequestDefaults d;
        const auto full = parse_chat_request(readFile(fuzzDir(QStringLiteral("corpus/server_request/chat-stream.json"))).toStdString(), d);
        QCOMPARE(full.messages.size(), size_t(2));
        QCOMPARE(full.messages[0].role, std::string("system"));  // "developer" is mapped to "system"
        QCOMPARE(full.messages[0].content, std::string("ab"));
        QCOMPARE(full.messages[1].content, std::string());
        QVERIFY(full.stream && full.include_usage);
        QCOMPARE(full.options.max_tokens, int64_t(64));
        QCOMPARE(full.options.stop_strings.size(), size_t(2));
        QCOMPARE(full.seed, static_cast<uint64_t>(-3));  // negative seeds wrap (no UB: converted via int64)
        QCOMPARE(full.sampling.top_k, 40);
        const auto comp = parse_completion_request(readFile(fuzzDir(QStringLiteral("corpus/server_request/completion.json"))).toStdString(), d);
        QCOMPARE(comp.prompt, std::string("Once upon a time"));
        QCOMPARE(comp.seed, uint64_t(42));
        QCOMPARE(comp.sampling.temperature, 0.0f);
        // A wrongly typed "stream" is the client's error (400), not an internal one.
        try {
            parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", d);
            QFAIL("accepted a string 'stream'");
        } catch (const RequestError& e) {
            QCOMPARE(e.status, 400);
            QCOMPARE(e.param, std::string("stream"));
        }
    }
};

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "test_fuzz_regressions.moc"
