// Property tests of the reference quantizers on random data, checked against naive float64 math:
// quantize -> dequantize error is bounded by each format's step, ternary / integer-grid inputs come back
// exactly, the fp16/bf16 conversions equal a brute-force round-to-nearest-even, and sizes reject bad shapes.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "bonsai/error.h"
#include "bonsai/tensor_type.h"

using bonsai::TensorType;

namespace {

std::vector<float> roundtrip(TensorType t, const std::vector<float>& x) {
    const int64_t n = static_cast<int64_t>(x.size());
    const int64_t ne[4] = {n, 1, 1, 1};
    std::vector<uint8_t> q(bonsai::tensor_nbytes(t, ne));
    bonsai::quantize(t, x.data(), q.data(), n);
    std::vector<float> y(x.size());
    bonsai::dequantize(t, q.data(), y.data(), n);
    return y;
}

double half_value(uint16_t h) {  // independent decode: sign, exponent, mantissa in double
    const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
    if (e == 31) v = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    return s ? -v : v;
}

// Nearest half (ties to even) of a finite float by binary search over the ordered positive encodings.
uint16_t half_reference(float f) {
    const double a = std::fabs(static_cast<double>(f));
    const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    if (a >= 65520.0) return sign | 0x7c00;
    uint16_t lo = 0, hi = 0x7bff;
    while (lo < hi) {  // largest h with value(h) <= a
        const uint16_t mid = static_cast<uint16_t>((lo + hi + 1) / 2);
        if (half_value(mid) <= a) lo = mid; else hi = static_cast<uint16_t>(mid - 1);
    }
    uint16_t h = lo;
    if (h < 0x7bff || a > half_value(0x7bff)) {
        const double up = (h == 0x7bff) ? 65536.0 : half_value(static_cast<uint16_t>(h + 1));
        const double dl = a - half_value(h), du = up - a;
        if (du < dl || (du == dl && (h & 1))) ++h;
    }
    return sign | h;
}

}  // namespace

class TestQuantRoundtrip : public QObject {
    Q_OBJECT

    std::mt19937 rng{12345};

    std::vector<float> gaussian(size_t n, float sigma) {
        std::normal_distribution<float> d(0.0f, sigma);
        std::vector<float> v(n);
        for (auto& x : v) x = d(rng);
        return v;
    }

private slots:
    void halfConversionMatchesBruteForce() {
        for (uint32_t h = 0; h < 65536; ++h) {
            const float f = bonsai::fp16_to_fp32(static_cast<uint16_t>(h));
            const double ref = half_value(static_cast<uint16_t>(h));
            if (std::isnan(ref)) {
                QVERIFY(std::isnan(f));
                continue;
            }
            QCOMPARE(static_cast<double>(f), ref);
            QCOMPARE(bonsai::fp32_to_fp16(f), static_cast<uint16_t>(h));
        }
        std::uniform_real_distribution<float> e(-30.0f, 17.0f);
        for (int i = 0; i < 200000; ++i) {
            const float f = std::ldexp(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng), static_cast<int>(e(rng)));
            QCOMPARE(bonsai::fp32_to_fp16(f), half_reference(f));
        }
        // Exact ties: halfway between 1 and the next half goes to even (1), the next one up.
        QCOMPARE(bonsai::fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), static_cast<uint16_t>(0x3c00));
        QCOMPARE(bonsai::fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), static_cast<uint16_t>(0x3c02));
        QCOMPARE(bonsai::fp32_to_fp16(65520.0f), static_cast<uint16_t>(0x7c00));
        QCOMPARE(bonsai::fp32_to_fp16(65519.0f), static_cast<uint16_t>(0x7bff));
        QVERIFY(std::isnan(bonsai::fp16_to_fp32(bonsai::fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()))));
    }

    // dequantize(F16 / BF16), the bulk conversions (branch-free, vectorized), against the scalar ones
    // bit for bit over every 16-bit pattern, NaN payloads included, at odd lengths and offsets.
    void bulkHalfConversionsMatchScalar() {
        std::vector<uint8_t> bytes(2 * 65537);
        for (uint32_t h = 0; h < 65536; ++h) std::memcpy(&bytes[2 * h + 1], &h, 2);  // odd address
        std::vector<float> f16(65536), bf16(65536);
        bonsai::dequantize(bonsai::TensorType::F16, bytes.data() + 1, f16.data(), 65536);
        bonsai::dequantize(bonsai::TensorType::BF16, bytes.data() + 1, bf16.data(), 65536);
        for (uint32_t h = 0; h < 65536; ++h) {
            const float a = bonsai::fp16_to_fp32(static_cast<uint16_t>(h)), b = bonsai::bf16_to_fp32(static_cast<uint16_t>(h));
            QVERIFY2(std::memcmp(&f16[h], &a, 4) == 0, qPrintable(QString("F16 %1").arg(h, 4, 16, QChar('0'))));
            QVERIFY2(std::memcmp(&bf16[h], &b, 4) == 0, qPrintable(QString("BF16 %1").arg(h, 4, 16, QChar('0'))));
        }
        std::vector<float> tail(300, -1.0f);
        bonsai::dequantize(bonsai::TensorType::F16, bytes.data() + 1 + 2 * 1000, tail.data(), 299);  // 256 + 43
        for (int i = 0; i < 299; ++i) QCOMPARE(tail[i], bonsai::fp16_to_fp32(static_cast<uint16_t>(1000 + i)));
        QCOMPARE(tail[299], -1.0f);
    }

    void bf16ConversionRoundsToNearestEven() {
        std::uniform_int_distribution<uint32_t> bits(0, 0xffffffffu);
        for (int i = 0; i < 200000; ++i) {
            const uint32_t u = bits(rng);
            float f;
            std::memcpy(&f, &u, 4);
            if (std::isnan(f)) {
                QVERIFY(std::isnan(bonsai::bf16_to_fp32(bonsai::fp32_to_bf16(f))));
                continue;
            }
            const uint16_t t = static_cast<uint16_t>(u >> 16);
            const double a = std::fabs(static_cast<double>(f));
            const double lo = std::fabs(static_cast<double>(bonsai::bf16_to_fp32(t)));
            const uint16_t t1 = static_cast<uint16_t>(t + 1);
            const double hi = ((t1 & 0x7fff) == 0x7f80) ? std::ldexp(1.0, 128) : std::fabs(static_cast<double>(bonsai::bf16_to_fp32(t1)));
            uint16_t want = t;
            if ((t & 0x7fff) != 0x7f80 && (hi - a < a - lo || (hi - a == a - lo && (t & 1)))) want = t1;
            QCOMPARE(bonsai::fp32_to_bf16(f), want);
        }
    }

    void errorBoundedByStep_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("steps");   // allowed error in units of the block's step (amax / levels)
        QTest::addColumn<double>("levels");  // largest |code| the scale is divided into
        QTest::newRow("Q8_0") << int(TensorType::Q8_0) << 0.5 << 127.0;
        QTest::newRow("Q4_0") << int(TensorType::Q4_0) << 1.0 << 8.0;
        QTest::newRow("Q2_0") << int(TensorType::Q2_0) << 0.5 << 1.0;
        QTest::newRow("PQ2_0") << int(TensorType::PQ2_0) << 0.5 << 1.0;
        QTest::newRow("TQ1_0") << int(TensorType::TQ1_0) << 0.5 << 1.0;
        QTest::newRow("TQ2_0") << int(TensorType::TQ2_0) << 0.5 << 1.0;
        QTest::newRow("PTQ1_0") << int(TensorType::PTQ1_0) << 0.5 << 1.0;
    }
    void errorBoundedByStep() {
        QFETCH(int, type);
        QFETCH(double, steps);
        QFETCH(double, levels);
        const auto t = static_cast<TensorType>(type);
        const int bs = static_cast<int>(bonsai::tensor_type_traits(t).block_size);
        const auto x = gaussian(static_cast<size_t>(bs) * 64, 0.7f);
        const auto y = roundtrip(t, x);
        for (size_t b = 0; b < x.size() / bs; ++b) {
            double amax = 0;
            for (int j = 0; j < bs; ++j) amax = std::max(amax, std::fabs(static_cast<double>(x[b * bs + j])));
            const double step = amax / levels;
            // Plus the fp16 rounding of the scale (relative 2^-11), magnified by the largest code.
            const double bound = steps * step + (levels + 1) * step * std::ldexp(1.0, -11) + 1e-12;
            for (int j = 0; j < bs; ++j) {
                const double err = std::fabs(static_cast<double>(x[b * bs + j]) - y[b * bs + j]);
                QVERIFY2(err <= bound, qPrintable(QString("block %1 elem %2: err %3 > %4").arg(b).arg(j).arg(err).arg(bound)));
            }
        }
    }

    void ternaryValuesAreExact_data() {
        QTest::addColumn<int>("type");
        for (auto t : {TensorType::Q2_0, TensorType::PQ2_0, TensorType::TQ1_0, TensorType::TQ2_0, TensorType::PTQ1_0, TensorType::I2_S}) {
            QTest::newRow(bonsai::tensor_type_name(t)) << int(t);
        }
    }
    void ternaryValuesAreExact() {
        QFETCH(int, type);
        const auto t = static_cast<TensorType>(type);
        const int n = 256 * 8;
        std::uniform_int_distribution<int> tri(-1, 1);
        // One fp16-representable scale for the whole tensor (I2_S has a single per-tensor scale).
        const float s = bonsai::fp16_to_fp32(bonsai::fp32_to_fp16(0.0173f));
        std::vector<float> x(n);
        for (int i = 0; i < n; ++i) x[i] = static_cast<float>(tri(rng)) * s;
        for (int b = 0; b < n; b += 64) x[b] = s;  // every block reaches +-s so its amax is s
        const auto y = roundtrip(t, x);
        for (int i = 0; i < n; ++i) QCOMPARE(y[i], x[i]);
    }

    void q8GridValuesAreExact() {
        std::uniform_int_distribution<int> k(-127, 127);
        const float d = bonsai::fp16_to_fp32(bonsai::fp32_to_fp16(0.0031f));
        std::vector<float> x(32 * 16);
        for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 32 == 0 ? 127 : k(rng)) * d;
        const auto y = roundtrip(TensorType::Q8_0, x);
        for (size_t i = 0; i < x.size(); ++i) QCOMPARE(y[i], x[i]);
    }

    void q1KeepsSignsAndMeanAbs() {
        const auto x = gaussian(128 * 32, 1.3f);
        const auto y = roundtrip(TensorType::Q1_0, x);
        for (size_t b = 0; b < x.size() / 128; ++b) {
            double mean = 0;
            for (int j = 0; j < 128; ++j) mean += std::fabs(static_cast<double>(x[b * 128 + j]));
            mean /= 128;
            for (int j = 0; j < 128; ++j) {
                const double v = y[b * 128 + j];
                QCOMPARE(v >= 0, x[b * 128 + j] >= 0);
                QVERIFY(std::fabs(std::fabs(v) - mean) <= mean * std::ldexp(1.0, -10));
            }
        }
    }

    void floatTypesRoundTrip() {
        const auto x = gaussian(1000, 3.0f);
        QCOMPARE(roundtrip(TensorType::F32, x), x);
        const auto h = roundtrip(TensorType::F16, x);
        const auto b = roundtrip(TensorType::BF16, x);
        for (size_t i = 0; i < x.size(); ++i) {
            QVERIFY(std::fabs(h[i] - x[i]) <= std::fabs(x[i]) * std::ldexp(1.0, -11) + std::ldexp(1.0, -25));
            QVERIFY(std::fabs(b[i] - x[i]) <= std::fabs(x[i]) * std::ldexp(1.0, -8));
        }
    }

    void kQuantsDecodeHandBuiltBlocks() {
        // Q4_K: d = 1, dmin = 0.5, sub-block scales 1..8 and mins 0..7 packed by hand; q = l % 16.
        std::vector<uint8_t> blk(144, 0);
        const uint16_t one = bonsai::fp32_to_fp16(1.0f), half = bonsai::fp32_to_fp16(0.5f);
        std::memcpy(blk.data(), &one, 2);
        std::memcpy(blk.data() + 2, &half, 2);
        int sc[8], mn[8];
        for (int j = 0; j < 8; ++j) { sc[j] = j + 1 + (j >= 4 ? 40 : 0); mn[j] = j + (j >= 4 ? 20 : 0); }
        uint8_t* s = blk.data() + 4;
        for (int j = 0; j < 4; ++j) {
            s[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
            s[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
            s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
        }
        for (int l = 0; l < 128; ++l) blk[16 + l] = static_cast<uint8_t>((l % 16) | (((l + 3) % 16) << 4));
        std::vector<float> y(256);
        bonsai::dequantize(TensorType::Q4_K, blk.data(), y.data(), 256);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                const int q = 32 * c + l;
                QCOMPARE(static_cast<double>(y[64 * c + l]), 1.0 * sc[2 * c] * (q % 16) - 0.5 * mn[2 * c]);
                QCOMPARE(static_cast<double>(y[64 * c + 32 + l]), 1.0 * sc[2 * c + 1] * ((q + 3) % 16) - 0.5 * mn[2 * c + 1]);
            }
        }
        // Q6_K: all 6-bit codes 33 (value +1), scales 1..16, d = 0.25 -> y = 0.25 * scale(sub-block of 16).
        std::vector<uint8_t> b6(210, 0);
        for (int i = 0; i < 128; ++i) b6[i] = 0x11;        // low nibbles 1
        for (int i = 0; i < 64; ++i) b6[128 + i] = 0xaa;   // high 2 bits = 2 -> code 32 + 1
        for (int i = 0; i < 16; ++i) b6[192 + i] = static_cast<uint8_t>(i + 1);
        const uint16_t q = bonsai::fp32_to_fp16(0.25f);
        std::memcpy(b6.data() + 208, &q, 2);
        bonsai::dequantize(TensorType::Q6_K, b6.data(), y.data(), 256);
        for (int e = 0; e < 256; ++e) QCOMPARE(static_cast<double>(y[e]), 0.25 * (e / 16 + 1));
    }

    void sizesAndShapeErrors() {
        const int64_t ok[4] = {256, 3, 1, 1};
        QCOMPARE(bonsai::tensor_nbytes(TensorType::Q1_0, ok), size_t(2 * 18 * 3));
        QCOMPARE(bonsai::tensor_nbytes(TensorType::Q2_0, ok), size_t(4 * 18 * 3));
        QCOMPARE(bonsai::tensor_nbytes(TensorType::PTQ1_0, ok), size_t(2 * 28 * 3));
        QCOMPARE(bonsai::tensor_nbytes(TensorType::I2_S, ok), size_t(256 * 3 / 4 + 32));
        QCOMPARE(bonsai::row_nbytes(TensorType::TQ1_0, 512), size_t(108));
        const int64_t bad_row[4] = {100, 1, 1, 1};
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, bonsai::tensor_nbytes(TensorType::Q8_0, bad_row));
        const int64_t huge[4] = {1ll << 40, 1ll << 40, 1, 1};
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, bonsai::tensor_nbytes(TensorType::F32, huge));
        const int64_t neg[4] = {32, -1, 1, 1};
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, bonsai::tensor_nbytes(TensorType::F32, neg));
        float dummy[32] = {};
        uint8_t out[64] = {};
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, bonsai::quantize(TensorType::Q4_K, dummy, out, 32));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, bonsai::dequantize(TensorType::Q8_0, out, dummy, 31));
        QCOMPARE(bonsai::tensor_type_from_name("q1_0"), std::optional<TensorType>(TensorType::Q1_0));
        QCOMPARE(bonsai::tensor_type_from_name("PTQ1_0"), std::optional<TensorType>(TensorType::PTQ1_0));
        QVERIFY(!bonsai::tensor_type_from_name("Q5_K").has_value());
        QCOMPARE(bonsai::tensor_type_traits(TensorType::PQ2_0).file_id, 142u);
    }
};

QTEST_GUILESS_MAIN(TestQuantRoundtrip)
#include "test_quant_roundtrip.moc"
