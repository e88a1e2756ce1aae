// GgufWriter round trip: every metadata value type (scalars and arrays), tensors of several types with
// data produced by the reference quantizers, alignment other than the default; re-open with the reader
// and compare every value, shape, offset and byte. Also writer-side argument checks.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

#include "bonsai/error.h"
#include "bonsai/gguf.h"

using bonsai::TensorType;
using bonsai::gguf::GgufFile;
using bonsai::gguf::GgufWriter;
using bonsai::gguf::ValueType;

namespace {

std::vector<uint8_t> quantized(TensorType t, const std::vector<int64_t>& ne, std::mt19937& rng) {
    int64_t dims[4] = {1, 1, 1, 1};
    int64_t n = 1;
    for (size_t i = 0; i < ne.size(); ++i) {
        dims[i] = ne[i];
        n *= ne[i];
    }
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = d(rng);
    std::vector<uint8_t> out(bonsai::tensor_nbytes(t, dims));
    bonsai::quantize(t, x.data(), out.data(), n);
    return out;
}

}  // namespace

class TestGgufWriter : public QObject {
    Q_OBJECT

private slots:
    void roundTripsEveryValueTypeAndTensor_data() {
        QTest::addColumn<int>("alignment");
        QTest::newRow("align32") << 32;
        QTest::newRow("align64") << 64;
        QTest::newRow("align4096") << 4096;
    }
    void roundTripsEveryValueTypeAndTensor() {
        QFETCH(int, alignment);
        std::mt19937 rng(7);
        GgufWriter w(static_cast<uint32_t>(alignment));
        w.set_string("general.architecture", "qwen3");
        w.set_u8("t.u8", 250);
        w.set_i8("t.i8", -120);
        w.set_u16("t.u16", 65000);
        w.set_i16("t.i16", -32000);
        w.set_u32("t.u32", 4000000000u);
        w.set_i32("t.i32", -2000000000);
        w.set_u64("t.u64", 18000000000000000000ull);
        w.set_i64("t.i64", -9000000000000000000ll);
        w.set_f32("t.f32", 1e-6f);
        w.set_f64("t.f64", 3.141592653589793);
        w.set_bool("t.bool", true);
        w.set_string("t.str", std::string("h\xC3\xA9llo\0with nul", 16));
        w.set_string("t.empty", "");
        w.set_array_string("t.astr", {"a", "", "\xE2\x96\x81x", std::string(300, 'z')});
        w.set_array_u8("t.au8", {0, 255});
        w.set_array_i8("t.ai8", {-128, 127});
        w.set_array_u16("t.au16", {1, 65535});
        w.set_array_i16("t.ai16", {-32768, 32767});
        w.set_array_u32("t.au32", {0, 4294967295u});
        w.set_array_i32("t.ai32", {-5, 6, 7});
        w.set_array_u64("t.au64", {1ull << 63});
        w.set_array_i64("t.ai64", {std::numeric_limits<int64_t>::min()});
        w.set_array_f32("t.af32", {0.5f, -2.25f});
        w.set_array_f64("t.af64", {1e300});
        w.set_array_bool("t.abool", {true, false, true});
        w.set_array_i32("t.aempty", {});
        w.set_u32("t.replaced", 1);
        w.set_u32("t.replaced", 2);  // replaces in place
        struct T {
            std::string name;
            TensorType type;
            std::vector<int64_t> ne;
            std::vector<uint8_t> data;
        };
        std::vector<T> ts = {
            {"f32", TensorType::F32, {5, 3}, quantized(TensorType::F32, {5, 3}, rng)},
            {"f16", TensorType::F16, {7}, quantized(TensorType::F16, {7}, rng)},
            {"bf16", TensorType::BF16, {4, 2, 2}, quantized(TensorType::BF16, {4, 2, 2}, rng)},
            {"q8", TensorType::Q8_0, {64, 3}, quantized(TensorType::Q8_0, {64, 3}, rng)},
            {"q1", TensorType::Q1_0, {256, 2}, quantized(TensorType::Q1_0, {256, 2}, rng)},
            {"q2", TensorType::Q2_0, {128, 5}, quantized(TensorType::Q2_0, {128, 5}, rng)},
            {"pq2", TensorType::PQ2_0, {256, 1}, quantized(TensorType::PQ2_0, {256, 1}, rng)},
            {"ptq1", TensorType::PTQ1_0, {128, 3}, quantized(TensorType::PTQ1_0, {128, 3}, rng)},
            {"tq1", TensorType::TQ1_0, {256, 2}, quantized(TensorType::TQ1_0, {256, 2}, rng)},
            {"tq2", TensorType::TQ2_0, {512, 1, 1, 2}, quantized(TensorType::TQ2_0, {512, 1, 1, 2}, rng)},
        };
        for (const auto& t : ts) w.add_tensor(t.name, t.type, t.ne, t.data);

        QTemporaryDir dir;
        const std::string path = dir.filePath("rt.gguf").toStdString();
        w.write(path);
        auto f = GgufFile::open(path);
        const auto mem = w.to_bytes();
        QCOMPARE(f->file_size(), static_cast<uint64_t>(mem.size()));
        QCOMPARE(f->alignment(), static_cast<uint64_t>(alignment));
        QCOMPARE(f->data_offset() % static_cast<uint64_t>(alignment), uint64_t(0));
        QCOMPARE(f->get_int("t.u8"), std::optional<int64_t>(250));
        QCOMPARE(f->get_int("t.i8"), std::optional<int64_t>(-120));
        QCOMPARE(f->get_int("t.u16"), std::optional<int64_t>(65000));
        QCOMPARE(f->get_int("t.i16"), std::optional<int64_t>(-32000));
        QCOMPARE(f->get_int("t.u32"), std::optional<int64_t>(4000000000ll));
        QCOMPARE(f->get_int("t.i32"), std::optional<int64_t>(-2000000000));
        QCOMPARE(f->find("t.u64")->u, 18000000000000000000ull);
        QCOMPARE(f->find("t.u64")->type, ValueType::U64);
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, f->get_int("t.u64"));  // does not fit int64
        QCOMPARE(f->get_int("t.i64"), std::optional<int64_t>(-9000000000000000000ll));
        QCOMPARE(f->get_float("t.f32"), std::optional<double>(static_cast<double>(1e-6f)));
        QCOMPARE(f->find("t.f32")->type, ValueType::F32);
        QCOMPARE(f->get_float("t.f64"), std::optional<double>(3.141592653589793));
        QCOMPARE(f->get_bool("t.bool"), std::optional<bool>(true));
        QCOMPARE(f->get_string("t.str"), std::optional<std::string>(std::string("h\xC3\xA9llo\0with nul", 16)));
        QCOMPARE(f->get_string("t.empty"), std::optional<std::string>(""));
        QCOMPARE(f->get_int("t.replaced"), std::optional<int64_t>(2));
        QVERIFY(!f->find("t.missing"));
        QVERIFY(!f->get_int("t.missing").has_value());
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, f->get_string("t.u8"));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, f->get_int("t.str"));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, f->get_array("t.u8"));

        const auto* astr = f->get_array("t.astr");
        QCOMPARE(astr->size(), uint64_t(4));
        QCOMPARE(astr->string_at(0), std::string_view("a"));
        QCOMPARE(astr->string_at(1), std::string_view(""));
        QCOMPARE(astr->string_at(2), std::string_view("\xE2\x96\x81x"));
        QCOMPARE(astr->string_at(3), std::string_view(std::string(300, 'z')));
        auto ints = [&](const char* k) {
            std::vector<int64_t> v;
            const auto* a = f->get_array(k);
            for (uint64_t i = 0; i < a->size(); ++i) v.push_back(a->int_at(i));
            return v;
        };
        QCOMPARE(ints("t.au8"), (std::vector<int64_t>{0, 255}));
        QCOMPARE(ints("t.ai8"), (std::vector<int64_t>{-128, 127}));
        QCOMPARE(ints("t.au16"), (std::vector<int64_t>{1, 65535}));
        QCOMPARE(ints("t.ai16"), (std::vector<int64_t>{-32768, 32767}));
        QCOMPARE(ints("t.au32"), (std::vector<int64_t>{0, 4294967295ll}));
        QCOMPARE(ints("t.ai32"), (std::vector<int64_t>{-5, 6, 7}));
        QCOMPARE(ints("t.ai64"), (std::vector<int64_t>{std::numeric_limits<int64_t>::min()}));
        QCOMPARE(ints("t.abool"), (std::vector<int64_t>{1, 0, 1}));
        QCOMPARE(f->get_array("t.abool")->elem_type(), ValueType::BOOL);
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, f->get_array("t.au64")->int_at(0));
        QCOMPARE(f->get_array("t.au64")->float_at(0), std::ldexp(1.0, 63));
        QCOMPARE(f->get_array("t.af32")->float_at(1), -2.25);
        QCOMPARE(f->get_array("t.af32")->elem_type(), ValueType::F32);
        QCOMPARE(f->get_array("t.af64")->float_at(0), 1e300);
        QCOMPARE(f->get_array("t.aempty")->size(), uint64_t(0));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, f->get_array("t.af32")->string_at(0));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, f->get_array("t.ai32")->int_at(3));

        QCOMPARE(f->tensors().size(), ts.size());
        uint64_t expected_offset = 0;
        for (size_t i = 0; i < ts.size(); ++i) {
            const auto& got = f->tensors()[i];
            QCOMPARE(got.name, ts[i].name);
            QCOMPARE(got.type, ts[i].type);
            QCOMPARE(got.type_id, bonsai::tensor_type_traits(ts[i].type).file_id);
            QCOMPARE(got.n_dims, static_cast<uint32_t>(ts[i].ne.size()));
            for (size_t d = 0; d < 4; ++d) QCOMPARE(got.ne[d], d < ts[i].ne.size() ? ts[i].ne[d] : 1);
            QCOMPARE(got.offset, expected_offset);
            QCOMPARE(got.nbytes, static_cast<uint64_t>(ts[i].data.size()));
            QVERIFY(std::equal(ts[i].data.begin(), ts[i].data.end(), got.data));
            QCOMPARE(f->tensor(ts[i].name), &got);
            expected_offset += (got.nbytes + alignment - 1) / alignment * alignment;
        }
        QCOMPARE(f->data_offset() + expected_offset, f->file_size());
    }

    void writerRejectsBadTensors() {
        GgufWriter w;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, w.add_tensor("x", TensorType::Q8_0, {32}, std::vector<uint8_t>(33)));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, w.add_tensor("x", TensorType::Q8_0, {31}, std::vector<uint8_t>(34)));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, w.add_tensor("", TensorType::F32, {1}, std::vector<uint8_t>(4)));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, w.add_tensor(std::string(64, 'n'), TensorType::F32, {1}, std::vector<uint8_t>(4)));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, w.add_tensor("x", TensorType::F32, {1, 1, 1, 1, 1}, std::vector<uint8_t>(4)));
        w.add_tensor("x", TensorType::F32, {1}, std::vector<uint8_t>(4));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, w.add_tensor("x", TensorType::F32, {1}, std::vector<uint8_t>(4)));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, GgufWriter(48));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, w.set_u32("general.alignment", 64));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, w.write("/nonexistent-dir/x.gguf"));
    }

    void emptyFileRoundTrips() {
        GgufWriter w;
        const auto bytes = w.to_bytes();
        QCOMPARE(bytes.size(), size_t(24));
        auto f = GgufFile::from_memory(bytes.data(), bytes.size());
        QCOMPARE(f->metadata().size(), size_t(0));
        QCOMPARE(f->tensors().size(), size_t(0));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, f->architecture());
    }
};

QTEST_GUILESS_MAIN(TestGgufWriter)
#include "test_gguf_writer.moc"
