// Properties checked against independent references (the fixtures' ids, Qt's UTF-8 codec):
//   - random byte strings round-trip encode -> decode exactly for byte-level vocabs;
//   - the streaming detokenizer never emits invalid UTF-8 and concatenates to decode();
#include <QRandomGenerator>
#include <QtTest>

#include "bonsai/gguf.h"
#include "bonsai/tokenizer.h"
#include "test_paths.h"
#include "vocab_fixture.h"

using bonsai::Tokenizer;

namespace {

std::unique_ptr<Tokenizer> load(const std::string& rel) {
    auto f = bonsai::gguf::GgufFile::open(bonsai::test::fixtures(rel));
    return Tokenizer::from_gguf(*f);
}

// Valid UTF-8 according to Qt's decoder (independent of ours): decoding then re-encoding is lossless
// and no replacement character appears that was not in the input.
bool qt_valid_utf8(const std::string& s) {
    const QByteArray in = QByteArray::fromStdString(s);
    const QString decoded = QString::fromUtf8(in);
    return decoded.toUtf8() == in;
}

// Random strings mixing ASCII words, spaces/newlines, multi-byte characters and raw random bytes.
std::string random_text(QRandomGenerator& rng) {
    static const char* pieces[] = {"the", " ", "  ", "\n", "\r\n", "\t", "'s", "123", "4567", "!!", "...",
                                   "\xC3\xA9", "\xE4\xBD\xA0\xE5\xA5\xBD", "\xF0\x9F\xA6\x99", "\xE2\x80\x8D",
                                   "<|im_end|>", "Hello", " world", "\xC2\xA0", "\xE3\x80\x80"};
    std::string s;
    const int parts = static_cast<int>(rng.bounded(12));
    for (int i = 0; i < parts; ++i) {
        if (rng.bounded(3) == 0) {
            const int n = static_cast<int>(rng.bounded(1, 6));
            for (int k = 0; k < n; ++k) s += static_cast<char>(rng.bounded(256));
        } else {
            s += pieces[rng.bounded(static_cast<quint32>(std::size(pieces)))];
        }
    }
    return s;
}

}  // namespace

class TestTokenizerRoundtrip : public QObject {
    Q_OBJECT

private slots:
    void randomBytesRoundTrip_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("qwen2") << "vocab/ggml-vocab-qwen2.gguf";
        QTest::newRow("llama-bpe") << "vocab/ggml-vocab-llama-bpe.gguf";
        QTest::newRow("gpt-2") << "vocab/ggml-vocab-gpt-2.gguf";
        QTest::newRow("vocab1024") << "models/qwen3-e256-Q1_0.gguf";
    }
    void randomBytesRoundTrip() {
        QFETCH(QString, file);
        auto tok = load(file.toStdString());
        QRandomGenerator rng(20261126);
        for (int i = 0; i < 3000; ++i) {
            const std::string text = random_text(rng);
            const auto ids = tok->encode(text, false, false);
            const std::string back = tok->decode(ids);
            if (back != text) {
                QFAIL(qPrintable(QStringLiteral("case %1: '%2' decoded as '%3'")
                                     .arg(i)
                                     .arg(QString::fromLatin1(QByteArray::fromStdString(text).toHex()))
                                     .arg(QString::fromLatin1(QByteArray::fromStdString(back).toHex()))));
            }
            for (int32_t id : ids) QVERIFY(id >= 0 && id < tok->n_vocab());
        }
    }

    void fixtureTextsRoundTrip() {
        // Every reference text decodes back to itself from the reference ids (independent of our encoder).
        for (const char* name : {"qwen2", "llama-bpe", "gpt-2"}) {
            const std::string base = std::string("vocab/ggml-vocab-") + name + ".gguf";
            auto tok = load(base);
            const auto texts = bonsai::test::read_inp(bonsai::test::fixtures(base + ".inp"));
            const auto ids = bonsai::test::read_out(bonsai::test::fixtures(base + ".out"));
            for (size_t i = 0; i < texts.size(); ++i) QCOMPARE(tok->decode(ids[i]), texts[i]);
        }
        // SentencePiece: decode keeps the prefix space encode added.
        const std::string base = "vocab/ggml-vocab-llama-spm.gguf";
        auto tok = load(base);
        const auto texts = bonsai::test::read_inp(bonsai::test::fixtures(base + ".inp"));
        const auto ids = bonsai::test::read_out(bonsai::test::fixtures(base + ".out"));
        for (size_t i = 0; i < texts.size(); ++i) {
            if (texts[i].empty()) continue;
            QCOMPARE(tok->decode(ids[i]), " " + texts[i]);
        }
    }

    void streamingNeverEmitsInvalidUtf8() {
        auto tok = load("vocab/ggml-vocab-qwen2.gguf");
        QRandomGenerator rng(7);
        int with_invalid = 0;
        for (int i = 0; i < 3000; ++i) {
            const std::string text = random_text(rng);
            const auto ids = tok->encode(text, false, rng.bounded(2) == 1);
            bonsai::StreamingDetokenizer det(*tok);
            std::string streamed;
            for (int32_t id : ids) {
                const std::string part = det.push(id);
                QVERIFY2(qt_valid_utf8(part), "push() emitted invalid UTF-8");
                streamed += part;
            }
            const std::string tail = det.flush();
            QVERIFY(qt_valid_utf8(tail));
            streamed += tail;
            const std::string whole = tok->decode(ids);
            if (qt_valid_utf8(whole)) {
                QCOMPARE(streamed, whole);
            } else {
                ++with_invalid;
                QCOMPARE(streamed, bonsai::sanitize_utf8(whole));
                // Qt's decoder also replaces ill-formed sequences (per byte rather than per maximal
                // subsequence), so the text without replacement characters must be the same.
                QString ours = QString::fromStdString(streamed), qt = QString::fromUtf8(QByteArray::fromStdString(whole));
                ours.remove(QChar(0xFFFD));
                qt.remove(QChar(0xFFFD));
                QCOMPARE(ours, qt);
            }
        }
        QVERIFY(with_invalid > 100);  // the generator does produce ill-formed input
    }

    void streamingHoldsSplitCharacter() {
        // The byte-level vocab1024 has no merges for the llama emoji: it is 4 single-byte tokens.
        auto tok = load("models/qwen3-e256-Q1_0.gguf");
        const std::string llama = "\xF0\x9F\xA6\x99";
        const auto ids = tok->encode(llama, false, false);
        QCOMPARE(ids.size(), size_t{4});
        bonsai::StreamingDetokenizer det(*tok);
        QCOMPARE(det.push(ids[0]), std::string());
        QCOMPARE(det.push(ids[1]), std::string());
        QCOMPARE(det.push(ids[2]), std::string());
        QCOMPARE(det.push(ids[3]), llama);
        QCOMPARE(det.flush(), std::string());
        // A truncated character becomes U+FFFD at the end.
        QCOMPARE(det.push(ids[0]), std::string());
        QCOMPARE(det.flush(), std::string("\xEF\xBF\xBD"));
    }

    void spmByteFallbackStreams() {
        // llama-spm has <0xNN> byte tokens: a character missing from the vocab is spelled in bytes.
        auto tok = load("vocab/ggml-vocab-llama-spm.gguf");
        const std::string text = "\xF0\x9F\xA6\x99";
        const auto ids = tok->encode(text, false, false);
        QVERIFY(ids.size() >= 4);
        QCOMPARE(tok->decode(ids), " " + text);
        bonsai::StreamingDetokenizer det(*tok);
        std::string out;
        for (int32_t id : ids) {
            const std::string part = det.push(id);
            QVERIFY(qt_valid_utf8(part));
            out += part;
        }
        out += det.flush();
        QCOMPARE(out, " " + text);
        QCOMPARE(tok->token_piece(tok->find_token("<0x0A>").value()), std::string("\n"));
    }
};

QTEST_GUILESS_MAIN(TestTokenizerRoundtrip)
#include "test_tokenizer_roundtrip.moc"
