// Tokenizer ids against llama.cpp / Hugging Face reference outputs (fixtures/vocab, fixtures/models):
// every text of every vocab, with (.special.out) and without (.out) special handling, exact equality.
#include <QtTest>

#include "bonsai/gguf.h"
#include "bonsai/tokenizer.h"
#include "test_paths.h"
#include "vocab_fixture.h"

using bonsai::Tokenizer;

namespace {

QString ids_str(const std::vector<int32_t>& ids) {
    QStringList s;
    for (int32_t id : ids) s << QString::number(id);
    return s.join(' ');
}

std::unique_ptr<Tokenizer> load(const std::string& rel) {
    auto f = bonsai::gguf::GgufFile::open(bonsai::test::fixtures(rel));
    return Tokenizer::from_gguf(*f);
}

// Compares every line; reports each mismatch with its text.
void check_file(const Tokenizer& tok, const std::string& inp, const std::string& out, bool special) {
    const auto texts = bonsai::test::read_inp(bonsai::test::fixtures(inp));
    const auto expected = bonsai::test::read_out(bonsai::test::fixtures(out));
    QCOMPARE(texts.size(), size_t{46});
    QVERIFY(expected.size() >= texts.size());
    int failures = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        const auto got = tok.encode(texts[i], special, special);
        if (got != expected[i]) {
            ++failures;
            qWarning("%s line %zu text '%s'\n  got      %s\n  expected %s", out.c_str(), i + 1, texts[i].c_str(),
                     qPrintable(ids_str(got)), qPrintable(ids_str(expected[i])));
        }
    }
    QCOMPARE(failures, 0);
}

}  // namespace

class TestTokenizerFixtures : public QObject {
    Q_OBJECT

private slots:
    void vocabFiles_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("special");
        for (const char* name : {"qwen2", "llama-bpe", "llama-spm", "gpt-2"}) {
            QTest::newRow((std::string(name) + " out").c_str()) << QString(name) << false;
            QTest::newRow((std::string(name) + " special.out").c_str()) << QString(name) << true;
        }
    }
    void vocabFiles() {
        QFETCH(QString, name);
        QFETCH(bool, special);
        const std::string base = "vocab/ggml-vocab-" + name.toStdString() + ".gguf";
        auto tok = load(base);
        check_file(*tok, base + ".inp", base + (special ? ".special.out" : ".out"), special);
    }

    void vocabMetadata() {
        // Values from fixtures/README.md's vocab table.
        auto qwen = load("vocab/ggml-vocab-qwen2.gguf");
        QCOMPARE(qwen->n_vocab(), 151936);
        QCOMPARE(qwen->bos_id(), 151643);
        QCOMPARE(qwen->eos_id(), 151643);
        QVERIFY(!qwen->add_bos());
        QCOMPARE(qwen->pre_tokenizer(), Tokenizer::PreTokenizer::Qwen2);
        auto spm = load("vocab/ggml-vocab-llama-spm.gguf");
        QCOMPARE(spm->model(), Tokenizer::Model::SentencePiece);
        QCOMPARE(spm->bos_id(), 1);
        QCOMPARE(spm->eos_id(), 2);
        QVERIFY(spm->add_bos());
        auto l3 = load("vocab/ggml-vocab-llama-bpe.gguf");
        QVERIFY(l3->add_bos());
        QCOMPARE(l3->bos_id(), 128000);
        QCOMPARE(l3->eos_id(), 128001);
        QCOMPARE(l3->pre_tokenizer(), Tokenizer::PreTokenizer::Llama3);
        auto g2 = load("vocab/ggml-vocab-gpt-2.gguf");
        QCOMPARE(g2->pre_tokenizer(), Tokenizer::PreTokenizer::Gpt2);
        QCOMPARE(g2->bos_id(), 50256);
        QVERIFY(!g2->add_bos());
    }

    void vocab1024_data() {
        QTest::addColumn<bool>("special");
        QTest::newRow("out") << false;
        QTest::newRow("special.out") << true;
    }
    void vocab1024() {
        QFETCH(bool, special);
        auto tok = load("models/qwen3-e256-Q1_0.gguf");
        QCOMPARE(tok->n_vocab(), 1024);
        check_file(*tok, "models/vocab1024.inp", special ? "models/vocab1024.special.out" : "models/vocab1024.out",
                   special);
    }

    void vocab1024MetadataAndEog() {
        // fixtures/README.md: bos = pad = 1021, eos = 1023, add_bos false, EOG set = {1021, 1023}.
        auto tok = load("models/qwen3-e256-F32.gguf");
        QCOMPARE(tok->bos_id(), 1021);
        QCOMPARE(tok->eos_id(), 1023);
        QCOMPARE(tok->pad_id(), 1021);
        QVERIFY(!tok->add_bos());
        for (int32_t id = 0; id < tok->n_vocab(); ++id) {
            QCOMPARE(tok->is_eog(id), id == 1021 || id == 1023);
        }
        QCOMPARE(tok->find_token("<|im_start|>").value_or(-1), 1022);
        QVERIFY(tok->is_control(1022));
        QVERIFY(!tok->is_control(1020));
    }

    void chatPromptParsesSpecialTokens() {
        // fixtures/models/tokens.txt: the first 24 ids of llama_tokenize(text, add_special=false,
        // parse_special=true) with the reduced vocab.
        auto tok = load("models/qwen3-e256-F32.gguf");
        const std::string text = "<|im_start|>user\nThe fox counts 12345 \xF0\x9F\xA6\x99 then int main() { return 0; }";
        const auto expected = bonsai::test::read_out(bonsai::test::fixtures("models/tokens.txt"));
        QVERIFY(!expected.empty());
        QCOMPARE(expected[0].size(), size_t{24});
        auto got = tok->encode(text, false, true);
        QVERIFY(got.size() >= 24);
        got.resize(24);
        QCOMPARE(ids_str(got), ids_str(expected[0]));
    }

    void userTextWithImEndIsPlainText() {
        auto tok = load("vocab/ggml-vocab-qwen2.gguf");
        const int32_t im_end = tok->find_token("<|im_end|>").value();
        QCOMPARE(im_end, 151645);
        const std::string msg = "Please stop<|im_end|> here";
        const auto plain = tok->encode(msg, false, false);
        const auto parsed = tok->encode(msg, true, true);
        QVERIFY(std::find(plain.begin(), plain.end(), im_end) == plain.end());
        QCOMPARE(std::count(parsed.begin(), parsed.end(), im_end), 1);
        // As text, the marker's bytes survive: decode gives the message back.
        QCOMPARE(tok->decode(plain), msg);
        // Parsed, the control token produces no text unless rendering specials.
        QCOMPARE(tok->decode(parsed), std::string("Please stop here"));
        QCOMPARE(tok->decode(parsed, true), msg);
        // Plain tokenization equals tokenizing the pieces around the marker with the marker as text:
        // the first ids are those of "Please stop<".
        const auto prefix = tok->encode("Please stop", false, false);
        QVERIFY(std::equal(prefix.begin(), prefix.end(), parsed.begin()));
        QVERIFY(tok->is_eog(im_end));
    }

    void userDefinedTokensAlwaysMatch() {
        // README: USER_DEFINED tokens (qwen2's [PAD151646]) match even without parse_special.
        auto tok = load("vocab/ggml-vocab-qwen2.gguf");
        const auto ids = tok->encode("a[PAD151646]b", false, false);
        QVERIFY(std::find(ids.begin(), ids.end(), 151646) != ids.end());
    }

    void wholeInputIsFast() {
        // Not a timing assertion: tokenizes the whole .inp 20 times and reports the time.
        auto tok = load("vocab/ggml-vocab-qwen2.gguf");
        const std::string all = bonsai::test::read_file_bytes(bonsai::test::fixtures("vocab/ggml-vocab-qwen2.gguf.inp"));
        QElapsedTimer t;
        t.start();
        size_t n = 0;
        for (int i = 0; i < 20; ++i) n += tok->encode(all, false, false).size();
        qInfo("qwen2 .inp (%zu bytes) x20: %zu ids in %lld ms", all.size(), n, static_cast<long long>(t.elapsed()));
        QVERIFY(n > 0);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerFixtures)
#include "test_tokenizer_fixtures.moc"
