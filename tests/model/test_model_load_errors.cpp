// Load-time validation of untrusted models (built in memory with gguf::GgufWriter): a missing tensor,
// a tensor of the wrong shape, missing or inconsistent metadata and unknown architectures each give a
// bonsai::Error naming the problem. Also the known-answer self test's verdicts.
#include <QtTest>

#include "bonsai/gguf.h"
#include "bonsai/model.h"
#include "model/self_test_text.h"
#include "test_paths.h"
#include "tiny_model.h"

using namespace bonsai;

namespace {

// Loads `spec` and returns the error message ("" when it loads).
std::string load_error(const test::TinySpec& spec) {
    const std::vector<uint8_t> bytes = test::build_tiny_model(spec);
    try {
        auto m = Model::from_file(gguf::GgufFile::from_memory(bytes.data(), bytes.size()));
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

#define EXPECT_ERROR(spec, needle)                                                                          \
    do {                                                                                                    \
        const std::string msg = load_error(spec);                                                           \
        QVERIFY2(msg.find(needle) != std::string::npos,                                                     \
                 qPrintable(QString("expected an error containing '%1', got '%2'").arg(needle).arg(msg.c_str()))); \
    } while (0)

}  // namespace

class TestModelLoadErrors : public QObject {
    Q_OBJECT
private slots:
    void valid_models_load() {
        for (const char* arch : {"qwen3", "llama", "bitnet"}) {
            test::TinySpec s;
            s.arch = arch;
            QCOMPARE(load_error(s), std::string());
        }
        test::TinySpec s;
        s.arch = "bitnet-b1.58";
        s.type = TensorType::I2_S;
        QCOMPARE(load_error(s), std::string());
    }

    void missing_tensor() {
        test::TinySpec s;
        s.omit = {"blk.1.ffn_up.weight"};
        EXPECT_ERROR(s, "missing tensor 'blk.1.ffn_up.weight'");
        test::TinySpec q;
        q.omit = {"blk.0.attn_q_norm.weight"};
        EXPECT_ERROR(q, "missing tensor 'blk.0.attn_q_norm.weight'");
        test::TinySpec b;
        b.arch = "bitnet";
        b.omit = {"blk.0.ffn_sub_norm.weight"};
        EXPECT_ERROR(b, "missing tensor 'blk.0.ffn_sub_norm.weight'");
        test::TinySpec e;
        e.omit = {"token_embd.weight"};
        EXPECT_ERROR(e, "token_embd.weight");
    }

    void wrong_shape() {
        test::TinySpec s;
        s.reshape = {{"blk.0.attn_k.weight", {128, 128}}};
        EXPECT_ERROR(s, "tensor 'blk.0.attn_k.weight' has shape [128, 128], expected [128, 64]");
        test::TinySpec n;
        n.reshape = {{"blk.1.ffn_norm.weight", {64}}};
        EXPECT_ERROR(n, "tensor 'blk.1.ffn_norm.weight' has shape [64], expected [128]");
        test::TinySpec o;
        o.reshape = {{"output_norm.weight", {128, 2}}};
        EXPECT_ERROR(o, "output_norm.weight");
    }

    void bad_metadata() {
        test::TinySpec s;
        s.omit_keys = {"qwen3.block_count"};
        EXPECT_ERROR(s, "missing metadata key 'qwen3.block_count'");
        test::TinySpec e;
        e.omit_keys = {"qwen3.attention.layer_norm_rms_epsilon"};
        EXPECT_ERROR(e, "layer_norm_rms_epsilon");
        test::TinySpec h;
        h.n_head = 3;
        h.n_head_kv = 2;
        EXPECT_ERROR(h, "not a multiple of head_count_kv");
        test::TinySpec a;
        a.arch = "gpt-neox";
        EXPECT_ERROR(a, "unsupported model architecture 'gpt-neox'");
    }

    void synthetic_flag() {
        test::TinySpec s;
        s.synthetic_flag = true;
        const std::vector<uint8_t> bytes = test::build_tiny_model(s);
        auto m = Model::from_file(gguf::GgufFile::from_memory(bytes.data(), bytes.size()));
        QVERIFY(m->is_synthetic());
        QVERIFY(m->tokenizer() == nullptr);
        const SelfTestResult r = m->self_test();  // no tokenizer: skipped, not a failure
        QVERIFY(!r.ran);
        QVERIFY(r.synthetic);
    }

    // A random-weight fixture model (with a real tokenizer) must fail the self test with the warning.
    void self_test_flags_random_model() {
        auto m = Model::load(test::fixtures("models/qwen3-e256-Q8_0.gguf"));
        QVERIFY(m->tokenizer() != nullptr);
        const SelfTestResult r = m->self_test();
        QVERIFY(r.ran);
        QVERIFY(r.n_tokens > 20);
        QVERIFY(r.finite);
        QVERIFY(!r.passed);
        QVERIFY(r.perplexity > 1024.0 / 10);
        QVERIFY2(r.message.find("gibberish") != std::string::npos, r.message.c_str());
        QVERIFY(m->last_self_test() != nullptr);
    }

    // With identity blocks and a tied head, the model predicts "the same token again" with near
    // certainty, so long runs of one token give a low perplexity: the check passes.
    void self_test_passes_a_predictive_model() {
        test::TinySpec s;
        s.layer_weight_scale = 0.0f;
        s.arch = "llama";
        s.omit = {};
        const std::vector<uint8_t> bytes = test::build_tiny_model(s);
        auto m = Model::from_file(gguf::GgufFile::from_memory(bytes.data(), bytes.size()));
        QVERIFY(m->hparams().tied_output);
        std::vector<int32_t> ids(20, 5);
        ids.insert(ids.end(), 20, 9);
        const SelfTestResult r = model_detail::evaluate_self_test(*m, ids);
        QVERIFY2(r.passed, r.message.c_str());
        QVERIFY(r.perplexity < 3.0);
        // The same model on a constant input is flagged as constant.
        const SelfTestResult c = model_detail::evaluate_self_test(*m, std::vector<int32_t>(10, 5));
        QVERIFY(c.constant);
        QVERIFY(!c.passed);
    }
};

QTEST_GUILESS_MAIN(TestModelLoadErrors)
#include "test_model_load_errors.moc"
