// Every real GGUF fixture (models/*.gguf written by llama-quantize / gguf-py, vocab/*.gguf from
// llama.cpp's test set) opens, and its tensor list, types, shapes and key metadata are exactly what
// fixtures/README.md describes.
#include <QDir>
#include <QtTest>

#include <map>

#include "bonsai/gguf.h"
#include "test_paths.h"

using bonsai::TensorType;
using bonsai::gguf::GgufFile;

namespace {

struct Expected {
    std::string arch;
    std::string weights;  // type name of the 2-D weights
    bool has_output;
    int E, H, K, D, F;
    bool qk_norm, bitnet;
    std::string embd_type;  // type of token_embd
};

// fixtures/README.md, models/ table and "Architectures".
std::map<std::string, Expected> expected_models() {
    std::map<std::string, Expected> m;
    for (const char* t : {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q1_0", "Q2_0", "TQ1_0", "TQ2_0"}) {
        m[std::string("qwen3-e256-") + t] = {"qwen3", t, true, 256, 4, 2, 64, 768, true, false, t};
    }
    for (const char* t : {"Q8_0", "Q1_0", "Q2_0"}) m[std::string("qwen3tied-e256-") + t] = {"qwen3", t, false, 256, 4, 2, 64, 768, true, false, t};
    m["llama-e256-F32"] = {"llama", "F32", true, 256, 4, 4, 64, 512, false, false, "F32"};
    m["llama-e256-TQ2_0"] = {"llama", "TQ2_0", true, 256, 4, 4, 64, 512, false, false, "TQ2_0"};
    m["bitnet-e256-F32"] = {"bitnet", "F32", false, 256, 4, 2, 64, 512, false, true, "F32"};
    m["bitnet-e256-TQ2_0"] = {"bitnet", "TQ2_0", false, 256, 4, 2, 64, 512, false, true, "F16"};
    return m;
}

std::vector<int64_t> shape(const bonsai::gguf::TensorInfo& t) { return std::vector<int64_t>(t.ne, t.ne + t.n_dims); }

}  // namespace

class TestGgufModels : public QObject {
    Q_OBJECT

private slots:
    void modelFixtureOpensWithDocumentedTensors_data() {
        QTest::addColumn<QString>("model");
        const QStringList files = QDir(QString::fromStdString(bonsai::test::fixtures("models"))).entryList({"*.gguf"}, QDir::Files);
        QCOMPARE(files.size(), 16);
        for (const QString& f : files) QTest::newRow(qPrintable(f)) << f.chopped(5);
    }
    void modelFixtureOpensWithDocumentedTensors() {
        QFETCH(QString, model);
        const auto all = expected_models();
        const auto it = all.find(model.toStdString());
        QVERIFY2(it != all.end(), "model fixture not described in the test table");
        const Expected& e = it->second;
        auto f = GgufFile::open(bonsai::test::fixtures("models/" + model.toStdString() + ".gguf"));
        QCOMPARE(f->architecture(), e.arch);
        QCOMPARE(f->version(), 3u);
        const int n_layer = 2, V = 1024;
        const int per_layer = e.bitnet ? 18 : (e.qk_norm ? 11 : 9);
        const size_t want_count = static_cast<size_t>(1 + 1 + (e.has_output ? 1 : 0) + n_layer * per_layer);
        QCOMPARE(f->tensors().size(), want_count);
        const auto ws = bonsai::tensor_type_from_name(e.weights).value();
        auto check = [&](const std::string& name, std::vector<int64_t> ne, TensorType type) {
            const auto* t = f->tensor(name);
            QVERIFY2(t, name.c_str());
            QCOMPARE(shape(*t), ne);
            QCOMPARE(bonsai::tensor_type_name(t->type), bonsai::tensor_type_name(type));
            QCOMPARE(t->nbytes, static_cast<uint64_t>(bonsai::tensor_nbytes(type, t->ne)));
            QVERIFY(t->data >= f->base() + f->data_offset() && t->data + t->nbytes <= f->base() + f->file_size());
        };
        check("token_embd.weight", {e.E, V}, bonsai::tensor_type_from_name(e.embd_type).value());
        check("output_norm.weight", {e.E}, TensorType::F32);
        QCOMPARE(f->tensor("output.weight") != nullptr, e.has_output);
        if (e.has_output) check("output.weight", {e.E, V}, ws);
        for (int l = 0; l < n_layer; ++l) {
            const std::string b = "blk." + std::to_string(l) + ".";
            check(b + "attn_norm.weight", {e.E}, TensorType::F32);
            check(b + "attn_q.weight", {e.E, e.H * e.D}, ws);
            check(b + "attn_k.weight", {e.E, e.K * e.D}, ws);
            check(b + "attn_v.weight", {e.E, e.K * e.D}, ws);
            check(b + "attn_output.weight", {e.H * e.D, e.E}, ws);
            check(b + "ffn_norm.weight", {e.E}, TensorType::F32);
            check(b + "ffn_gate.weight", {e.E, e.F}, ws);
            check(b + "ffn_up.weight", {e.E, e.F}, ws);
            check(b + "ffn_down.weight", {e.F, e.E}, ws);
            if (e.qk_norm) {
                check(b + "attn_q_norm.weight", {e.D}, TensorType::F32);
                check(b + "attn_k_norm.weight", {e.D}, TensorType::F32);
            }
            if (e.bitnet) {
                check(b + "attn_sub_norm.weight", {e.E}, TensorType::F32);
                check(b + "ffn_sub_norm.weight", {e.F}, TensorType::F32);
                for (const char* s : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
                    check(b + s + ".scale", {1}, TensorType::F32);
                }
            }
        }
        const std::string a = e.arch + ".";
        QCOMPARE(f->get_int(a + "context_length"), std::optional<int64_t>(512));
        QCOMPARE(f->get_int(a + "embedding_length"), std::optional<int64_t>(e.E));
        QCOMPARE(f->get_int(a + "block_count"), std::optional<int64_t>(n_layer));
        QCOMPARE(f->get_int(a + "attention.head_count"), std::optional<int64_t>(e.H));
        QCOMPARE(f->get_int(a + "attention.head_count_kv"), std::optional<int64_t>(e.K));
        QCOMPARE(f->get_int(a + "attention.key_length"), std::optional<int64_t>(e.D));
        QCOMPARE(f->get_float(a + "attention.layer_norm_rms_epsilon").value_or(0), static_cast<double>(1e-6f));
        // Reduced vocab (README "The reduced 1024-token vocabulary").
        QCOMPARE(f->get_string("tokenizer.ggml.model"), std::optional<std::string>("gpt2"));
        QCOMPARE(f->get_string("tokenizer.ggml.pre"), std::optional<std::string>("qwen2"));
        const auto* tokens = f->get_array("tokenizer.ggml.tokens");
        QVERIFY(tokens);
        QCOMPARE(tokens->size(), uint64_t(1024));
        QCOMPARE(tokens->string_at(1022), std::string_view("<|im_start|>"));
        QCOMPARE(tokens->string_at(1023), std::string_view("<|im_end|>"));
        QCOMPARE(f->get_array("tokenizer.ggml.merges")->size(), uint64_t(765));
        QCOMPARE(f->get_array("tokenizer.ggml.token_type")->int_at(1023), int64_t(3));
        QCOMPARE(f->get_int("tokenizer.ggml.eos_token_id"), std::optional<int64_t>(1023));
        QCOMPARE(f->get_bool("tokenizer.ggml.add_bos_token"), std::optional<bool>(false));
        QVERIFY(f->get_string("tokenizer.chat_template")->find("<|im_start|>") != std::string::npos);
    }

    void vocabFixtureOpens_data() {
        QTest::addColumn<QString>("vocab");
        QTest::addColumn<int>("n_tokens");
        QTest::addColumn<QString>("model");
        QTest::newRow("qwen2") << "qwen2" << 151936 << "gpt2";
        QTest::newRow("llama-bpe") << "llama-bpe" << 128256 << "gpt2";
        QTest::newRow("llama-spm") << "llama-spm" << 32000 << "llama";
        QTest::newRow("gpt-2") << "gpt-2" << 50257 << "gpt2";
    }
    void vocabFixtureOpens() {
        QFETCH(QString, vocab);
        QFETCH(int, n_tokens);
        QFETCH(QString, model);
        auto f = GgufFile::open(bonsai::test::fixtures("vocab/ggml-vocab-" + vocab.toStdString() + ".gguf"));
        QCOMPARE(f->tensors().size(), size_t(0));
        QCOMPARE(f->get_string("tokenizer.ggml.model"), std::optional<std::string>(model.toStdString()));
        const auto* tokens = f->get_array("tokenizer.ggml.tokens");
        QVERIFY(tokens);
        QCOMPARE(tokens->elem_type(), bonsai::gguf::ValueType::STRING);
        QCOMPARE(tokens->size(), static_cast<uint64_t>(n_tokens));
        // Every string is readable and the last one ends inside the file.
        size_t total = 0;
        for (uint64_t i = 0; i < tokens->size(); ++i) total += tokens->string_at(i).size();
        QVERIFY(total > 0 && total < f->file_size());
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, tokens->string_at(tokens->size()));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, tokens->int_at(0));
    }
};

QTEST_GUILESS_MAIN(TestGgufModels)
#include "test_gguf_models.moc"
