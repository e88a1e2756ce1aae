// Malformed GGUF corpus (corpus.h): every class of broken file is rejected with bonsai::Error whose text
// names the problem; every prefix of a small valid file and every single-byte corruption is either
// rejected cleanly or accepted, never a crash. Also the fork-specific type-id cases (legacy Q2_0, I2_S).
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "bonsai/error.h"
#include "bonsai/gguf.h"
#include "corpus.h"

using bonsai::gguf::GgufFile;
using bonsai::gguf::GgufWriter;

namespace {

// Error text of opening `bytes`, or "" when it opened.
std::string open_error(const corpus::Bytes& bytes, const std::string& name = "<memory>") {
    try {
        GgufFile::from_memory(bytes.data(), bytes.size(), name);
        return {};
    } catch (const bonsai::Error& e) {
        return e.what();
    }
}

std::vector<uint8_t> ramp_bytes(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 37 + 5);
    return v;
}

}  // namespace

class TestGgufMalformed : public QObject {
    Q_OBJECT

private slots:
    void validCorpusBaseOpens() {
        const auto bytes = corpus::valid_file();
        auto f = GgufFile::from_memory(bytes.data(), bytes.size());
        QCOMPARE(f->tensors().size(), size_t(3));
        QCOMPARE(f->alignment(), uint64_t(64));
        QCOMPARE(f->tensor("tb")->type, bonsai::TensorType::Q8_0);
    }

    void eachClassIsRejectedWithItsMessage_data() {
        QTest::addColumn<int>("index");
        const auto cases = corpus::malformed_cases();
        for (size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << static_cast<int>(i);
    }
    void eachClassIsRejectedWithItsMessage() {
        QFETCH(int, index);
        const auto c = corpus::malformed_cases()[static_cast<size_t>(index)];
        const std::string err = open_error(c.bytes, "corpus.gguf");
        QVERIFY2(!err.empty(), "malformed file was accepted");
        QVERIFY2(err.find(c.expect) != std::string::npos, qPrintable(QString::fromStdString("message: " + err)));
        QVERIFY2(err.find("corpus.gguf") != std::string::npos, qPrintable(QString::fromStdString(err)));
    }

    void errorsNameByteOffsets() {
        auto f = corpus::valid_file();
        const size_t at = corpus::tensor_ne_at(f, "ta", 1);
        corpus::poke<uint64_t>(f, corpus::tensor_offset_at(f, "tb", 2), 0);
        const std::string err = open_error(f);
        const size_t rec = corpus::string_start(f, "tb");
        QVERIFY2(err.find("tensor 'tb' at byte " + std::to_string(rec)) != std::string::npos, err.c_str());
        (void)at;
    }

    void everyPrefixIsHandled() {
        const auto full = corpus::valid_file();
        int accepted = 0;
        for (size_t n = 0; n < full.size(); ++n) {
            const corpus::Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));  // exact-size buffer
            if (open_error(prefix).empty()) ++accepted;
        }
        // Only prefixes that still hold all tensor data (just the last tensor's padding cut) may open.
        const size_t last_end = full.size() - 64 + 18;
        QCOMPARE(accepted, static_cast<int>(full.size() - last_end));
    }

    void everySingleByteCorruptionIsHandled() {
        const auto full = corpus::valid_file();
        for (size_t i = 0; i < full.size(); ++i) {
            for (uint8_t x : {uint8_t(0xff), uint8_t(0x80), uint8_t(0x01)}) {
                auto b = full;
                b[i] ^= x;
                open_error(b);  // must return or throw bonsai::Error; anything else fails the test
            }
        }
    }

    void legacyQ2_0IsRefusedNamingTheFileToGet() {
        GgufWriter w;
        w.set_string("general.architecture", "qwen3");
        w.add_tensor("blk.0.ffn_up.weight", bonsai::TensorType::PQ2_0, {2048, 2}, ramp_bytes(16 * 34 * 2));
        w.add_tensor("blk.0.ffn_down.weight", bonsai::TensorType::PQ2_0, {2048, 3}, ramp_bytes(16 * 34 * 3));
        auto bytes = w.to_bytes();
        // As a PQ2_0 file (id 142) it opens.
        QCOMPARE(GgufFile::from_memory(bytes.data(), bytes.size())->tensors()[1].type, bonsai::TensorType::PQ2_0);
        // Retagged to id 42 it is the legacy layout.
        corpus::poke<uint32_t>(bytes, corpus::tensor_type_at(bytes, "blk.0.ffn_up.weight", 2), 42);
        corpus::poke<uint32_t>(bytes, corpus::tensor_type_at(bytes, "blk.0.ffn_down.weight", 2), 42);
        QTemporaryDir dir;
        const std::string path = dir.filePath("Ternary-Bonsai-1.7B-Q2_0.gguf").toStdString();
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        try {
            GgufFile::open(path);
            QFAIL("legacy Q2_0 file was accepted");
        } catch (const bonsai::Error& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("legacy PrismML Q2_0") != std::string::npos, msg.c_str());
            QVERIFY2(msg.find("Ternary-Bonsai-1.7B-PQ2_0.gguf") != std::string::npos, msg.c_str());
        }
    }

    void officialQ2_0WithId42Opens() {
        GgufWriter w;
        w.set_string("general.architecture", "qwen3");
        w.add_tensor("a", bonsai::TensorType::Q2_0, {2048, 2}, ramp_bytes(32 * 18 * 2));
        w.add_tensor("b", bonsai::TensorType::Q2_0, {2048, 3}, ramp_bytes(32 * 18 * 3));
        const auto bytes = w.to_bytes();
        auto f = GgufFile::from_memory(bytes.data(), bytes.size());
        QCOMPARE(f->tensors()[0].type_id, 42u);
        QCOMPARE(f->tensors()[0].type, bonsai::TensorType::Q2_0);
        QCOMPARE(f->tensors()[1].nbytes, uint64_t(32 * 18 * 3));
    }

    void i2sNeedsTheBitnetForkArchitecture() {
        std::vector<float> w8(256 * 2);
        for (size_t i = 0; i < w8.size(); ++i) w8[i] = static_cast<float>(static_cast<int>(i % 3) - 1) * 0.25f;
        std::vector<uint8_t> q(256 * 2 / 4 + 32);
        bonsai::quantize(bonsai::TensorType::I2_S, w8.data(), q.data(), static_cast<int64_t>(w8.size()));
        for (const char* arch : {"bitnet-b1.58", "qwen3"}) {
            GgufWriter w;
            w.set_string("general.architecture", arch);
            w.add_tensor("blk.0.attn_q.weight", bonsai::TensorType::I2_S, {256, 2}, q);
            w.add_tensor("blk.0.attn_norm.weight", bonsai::TensorType::F32, {256}, std::vector<uint8_t>(1024));
            const auto bytes = w.to_bytes();
            const std::string err = open_error(bytes);
            if (std::string(arch) == "qwen3") {
                QVERIFY2(err.find("I2_S only in files from microsoft/BitNet") != std::string::npos, err.c_str());
                continue;
            }
            QVERIFY2(err.empty(), err.c_str());
            auto f = GgufFile::from_memory(bytes.data(), bytes.size());
            const auto* t = f->tensor("blk.0.attn_q.weight");
            QCOMPARE(t->type, bonsai::TensorType::I2_S);
            QCOMPARE(t->nbytes, uint64_t(256 * 2 / 4 + 32));
            std::vector<float> back(w8.size());
            bonsai::dequantize(t->type, t->data, back.data(), t->n_elements());
            QCOMPARE(back, w8);
        }
    }

    void missingFileAndDirectoryAreErrors() {
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, GgufFile::open("/nonexistent/model.gguf"));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, GgufFile::open("/tmp"));
    }
};

QTEST_GUILESS_MAIN(TestGgufMalformed)
#include "test_gguf_malformed.moc"
