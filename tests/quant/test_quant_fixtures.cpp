// Every tensor of fixtures/dequant/<TYPE>.gguf, dequantized by our reference code, must equal llama.cpp's
// dequantization (<TYPE>.<tensor>.f32) bit for bit; quantizing the F32 source (source.<tensor>.f32) must
// reproduce llama.cpp's block bytes bit for bit (fixtures/README.md, dequant/).
#include <QtTest>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "bonsai/gguf.h"
#include "bonsai/tensor_type.h"
#include "test_paths.h"

namespace {

std::vector<uint8_t> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

const char* const kTypes[] = {"F16", "BF16", "Q8_0", "Q4_0", "Q1_0", "Q2_0", "TQ1_0", "TQ2_0"};
const char* const kTensors[] = {"a_256x4", "b_512x3", "c_768x2", "d_1024x2", "e_edge_256x6"};

// Index of the first differing float (or -1), for a readable failure message.
long first_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        if (a[i] != b[i]) return static_cast<long>(i / 4);
    }
    return a.size() == b.size() ? -1 : static_cast<long>(std::min(a.size(), b.size()) / 4);
}

}  // namespace

class TestQuantFixtures : public QObject {
    Q_OBJECT

    static void cases() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("tensor");
        for (const char* t : kTypes) {
            for (const char* n : kTensors) QTest::newRow((std::string(t) + "." + n).c_str()) << QString(t) << QString(n);
        }
    }

private slots:
    void dequantMatchesLlamaCpp_data() { cases(); }
    void dequantMatchesLlamaCpp() {
        QFETCH(QString, type);
        QFETCH(QString, tensor);
        const std::string t = type.toStdString(), n = tensor.toStdString();
        auto f = bonsai::gguf::GgufFile::open(bonsai::test::fixtures("dequant/" + t + ".gguf"));
        const bonsai::gguf::TensorInfo* ti = f->tensor(n);
        QVERIFY(ti);
        QCOMPARE(QString(bonsai::tensor_type_name(ti->type)), type);
        std::vector<float> out(static_cast<size_t>(ti->n_elements()));
        bonsai::dequantize(ti->type, ti->data, out.data(), ti->n_elements());
        std::vector<uint8_t> got(out.size() * 4);
        std::memcpy(got.data(), out.data(), got.size());
        const auto want = read_all(bonsai::test::fixtures("dequant/" + t + "." + n + ".f32"));
        QCOMPARE(got.size(), want.size());
        QVERIFY2(got == want, qPrintable(QString("first differing element %1").arg(first_diff(got, want))));
    }

    void quantizeMatchesLlamaCpp_data() { cases(); }
    void quantizeMatchesLlamaCpp() {
        QFETCH(QString, type);
        QFETCH(QString, tensor);
        const std::string t = type.toStdString(), n = tensor.toStdString();
        auto f = bonsai::gguf::GgufFile::open(bonsai::test::fixtures("dequant/" + t + ".gguf"));
        const bonsai::gguf::TensorInfo* ti = f->tensor(n);
        QVERIFY(ti);
        QVERIFY(bonsai::has_quantizer(ti->type));
        const auto src_bytes = read_all(bonsai::test::fixtures("dequant/source." + n + ".f32"));
        QCOMPARE(static_cast<int64_t>(src_bytes.size()), ti->n_elements() * 4);
        std::vector<float> src(src_bytes.size() / 4);
        std::memcpy(src.data(), src_bytes.data(), src_bytes.size());
        std::vector<uint8_t> got(bonsai::tensor_nbytes(ti->type, ti->ne));
        QCOMPARE(static_cast<uint64_t>(got.size()), ti->nbytes);
        // Row by row, as llama.cpp's quantizer is called.
        const size_t row_bytes = bonsai::row_nbytes(ti->type, ti->ne[0]);
        for (int64_t r = 0; r < ti->n_rows(); ++r) {
            bonsai::quantize(ti->type, src.data() + r * ti->ne[0], got.data() + r * row_bytes, ti->ne[0]);
        }
        const std::vector<uint8_t> want(ti->data, ti->data + ti->nbytes);
        long first = -1;
        for (size_t i = 0; i < got.size() && first < 0; ++i) {
            if (got[i] != want[i]) first = static_cast<long>(i);
        }
        QVERIFY2(first < 0, qPrintable(QString("first differing byte %1 (block %2)")
                                           .arg(first)
                                           .arg(first / static_cast<long>(bonsai::tensor_type_traits(ti->type).block_bytes))));
    }

    // The F32 source itself reads back unchanged (F32 path of the reader + dequantize).
    void sourceF32ReadsBack() {
        auto f = bonsai::gguf::GgufFile::open(bonsai::test::fixtures("dequant/source.gguf"));
        for (const char* n : kTensors) {
            const auto* ti = f->tensor(n);
            QVERIFY(ti);
            QCOMPARE(ti->type, bonsai::TensorType::F32);
            std::vector<float> out(static_cast<size_t>(ti->n_elements()));
            bonsai::dequantize(ti->type, ti->data, out.data(), ti->n_elements());
            const auto want = read_all(bonsai::test::fixtures(std::string("dequant/source.") + n + ".f32"));
            QCOMPARE(want.size(), out.size() * 4);
            QVERIFY(std::memcmp(want.data(), out.data(), want.size()) == 0);
        }
    }
};

QTEST_GUILESS_MAIN(TestQuantFixtures)
#include "test_quant_fixtures.moc"
