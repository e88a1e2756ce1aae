// Malformed tokenizer metadata gives a clear bonsai::Error (formats.md §1.6 item 13); GGUFs are built in
// memory with gguf::GgufWriter. Also checks the metadata defaults on small hand-made vocabularies.
#include <QtTest>

#include "bonsai/gguf.h"
#include "bonsai/tokenizer.h"

using bonsai::Tokenizer;
using bonsai::gguf::GgufFile;
using bonsai::gguf::GgufWriter;

namespace {

// A tiny byte-level vocab: "a", "b", "c", "ab", "abc", "Ġ", "<|im_end|>" with merges "a b", "ab c".
std::vector<std::string> tiny_tokens() { return {"a", "b", "c", "ab", "abc", "\xC4\xA0", "<|im_end|>"}; }

GgufWriter tiny_writer() {
    GgufWriter w;
    w.set_string("general.architecture", "qwen3");
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "qwen2");
    w.set_array_string("tokenizer.ggml.tokens", tiny_tokens());
    w.set_array_i32("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 3});
    w.set_array_string("tokenizer.ggml.merges", {"a b", "ab c"});
    w.set_u32("tokenizer.ggml.eos_token_id", 6);
    w.set_u32("tokenizer.ggml.bos_token_id", 6);
    return w;
}

struct Loaded {
    std::vector<uint8_t> bytes;  // must outlive the file
    std::unique_ptr<GgufFile> file;
};

Loaded open_bytes(const GgufWriter& w) {
    Loaded l;
    l.bytes = w.to_bytes();
    l.file = GgufFile::from_memory(l.bytes.data(), l.bytes.size(), "test.gguf");
    return l;
}

// Loads a tokenizer from `w` and expects an error whose message contains every one of `needles`.
void expect_error(const GgufWriter& w, std::initializer_list<const char*> needles) {
    Loaded l = open_bytes(w);
    try {
        Tokenizer::from_gguf(*l.file);
    } catch (const bonsai::Error& e) {
        const std::string msg = e.what();
        for (const char* n : needles) {
            QVERIFY2(msg.find(n) != std::string::npos, qPrintable(QStringLiteral("'%1' lacks '%2'").arg(msg.c_str(), n)));
        }
        return;
    }
    QFAIL("no error");
}

}  // namespace

class TestTokenizerMetadata : public QObject {
    Q_OBJECT

private slots:
    void tinyVocabWorks() {
        Loaded l = open_bytes(tiny_writer());
        auto tok = Tokenizer::from_gguf(*l.file);
        QCOMPARE(tok->n_vocab(), 7);
        // "abc" merges a+b (rank 0) then ab+c (rank 1); " a" is "Ġ" + "a" (no merge).
        QCOMPARE(tok->encode("abc", false, false), (std::vector<int32_t>{4}));
        QCOMPARE(tok->encode("cab", false, false), (std::vector<int32_t>{2, 3}));
        QCOMPARE(tok->encode(" a", false, false), (std::vector<int32_t>{5, 0}));
        QCOMPARE(tok->encode("a<|im_end|>", false, true), (std::vector<int32_t>{0, 6}));
        QCOMPARE(tok->decode({5, 4}), std::string(" abc"));
        QVERIFY(tok->is_eog(6));
        QCOMPARE(tok->eot_id(), 6);
        QVERIFY(!tok->add_bos());
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, tok->token_piece(7));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, tok->decode({-1}));
    }

    void missingTokens() {
        GgufWriter w;
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_array_string("tokenizer.ggml.merges", {"a b"});
        expect_error(w, {"tokenizer.ggml.tokens", "missing"});
    }

    void missingModel() {
        GgufWriter w;
        w.set_array_string("tokenizer.ggml.tokens", tiny_tokens());
        expect_error(w, {"tokenizer.ggml.model", "missing"});
    }

    void tokensWrongType() {
        GgufWriter w;
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_array_i32("tokenizer.ggml.tokens", {1, 2, 3});
        w.set_array_string("tokenizer.ggml.merges", {});
        expect_error(w, {"tokenizer.ggml.tokens", "array of strings"});
    }

    void tokensNotAnArray() {
        GgufWriter w;
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.tokens", "abc");
        expect_error(w, {"tokenizer.ggml.tokens", "must be an array"});
    }

    void scoresShorterThanTokens() {
        GgufWriter w = tiny_writer();
        w.set_array_f32("tokenizer.ggml.scores", {0.0f, 1.0f});
        expect_error(w, {"tokenizer.ggml.scores", "2 entries"});
    }

    void scoresWrongType() {
        GgufWriter w = tiny_writer();
        w.set_array_string("tokenizer.ggml.scores", tiny_tokens());
        expect_error(w, {"tokenizer.ggml.scores", "float32"});
    }

    void tokenTypeShorterOrWrongType() {
        GgufWriter a = tiny_writer();
        a.set_array_i32("tokenizer.ggml.token_type", {1, 1});
        expect_error(a, {"tokenizer.ggml.token_type", "2 entries"});
        GgufWriter b = tiny_writer();
        b.set_array_f32("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 1});
        expect_error(b, {"tokenizer.ggml.token_type", "int32"});
    }

    void bosOutOfRange() {
        GgufWriter w = tiny_writer();
        w.set_u32("tokenizer.ggml.bos_token_id", 7);
        expect_error(w, {"bos_token_id", "7"});
    }

    void bosWrongType() {
        GgufWriter w = tiny_writer();
        w.set_string("tokenizer.ggml.bos_token_id", "1");
        expect_error(w, {"bos_token_id", "integer"});
    }

    void missingMergesForGpt2() {
        GgufWriter w;
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_array_string("tokenizer.ggml.tokens", tiny_tokens());
        expect_error(w, {"tokenizer.ggml.merges"});
    }

    void unknownModelAndPre() {
        GgufWriter a = tiny_writer();
        a.set_string("tokenizer.ggml.model", "bert");
        expect_error(a, {"'bert'", "not supported"});
        GgufWriter b = tiny_writer();
        b.set_string("tokenizer.ggml.pre", "no-such-pre");
        expect_error(b, {"'no-such-pre'"});
    }

    void duplicateTokenText() {
        GgufWriter w = tiny_writer();
        w.set_array_string("tokenizer.ggml.tokens", {"a", "b", "c", "ab", "a", "\xC4\xA0", "<|im_end|>"});
        expect_error(w, {"appears twice", "ids 0 and 4"});
    }

    void specConstructorChecks() {
        bonsai::VocabSpec s;
        s.model = "llama";
        s.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a"};
        s.scores = {0, 0, 0};
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, Tokenizer::from_spec(s));
        s.scores = {0, 0, 0, -1};
        s.types = {2, 3, 3, 1};
        auto tok = Tokenizer::from_spec(s);
        // SentencePiece defaults (formats.md §5.1): bos 1, eos 2, unk 0, add_bos, space prefix.
        QCOMPARE(tok->bos_id(), 1);
        QCOMPARE(tok->eos_id(), 2);
        QCOMPARE(tok->unk_id(), 0);
        QVERIFY(tok->add_bos());
        QCOMPARE(tok->encode("a", true, false), (std::vector<int32_t>{1, 3}));
        // No byte tokens: a character missing from the vocab falls back to <unk> per byte (3 for the
        // prefix U+2581 alone, 2 for the e-acute).
        QCOMPARE(tok->encode("\xC3\xA9", false, false), (std::vector<int32_t>{0, 0, 0, 0, 0}));
        s.eos_id = 99;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, Tokenizer::from_spec(s));
    }
};

QTEST_GUILESS_MAIN(TestTokenizerMetadata)
#include "test_tokenizer_metadata.moc"
