// Every CPU matmul type against dequantize-then-multiply in float64, on random shapes including odd row
// counts and thread counts 1, 2 and 3. The kernels quantize activations (Q8_0 / Q8_K / per-row int8)
// or round them (F16 / BF16), so the check allows exactly the error that rounding can cause: per block,
// Σ|w| · (half a quantization step of that block's activations), plus float summation noise.
// A wrong weight decode (sign, order, scale position) is far outside that bound.
#include <QtTest>
#include <cmath>
#include <random>

#include "backend/cpu/matmul.h"
#include "bonsai/error.h"
#include "bonsai/tensor_type.h"

using namespace bonsai;

namespace {

struct Case {
    TensorType type;
    int64_t n_in;
    int64_t n_out;
    int64_t n_tok;
};

// Weight bytes for `type`: quantized from random floats where a quantizer exists, else random blocks
// with sane fp16 scales (Q4_K / Q6_K have no quantizer).
std::vector<uint8_t> make_weights(TensorType type, int64_t n_in, int64_t n_out, std::mt19937& rng, std::vector<float>& deq) {
    const int64_t ne[4] = {n_in, n_out, 1, 1};
    std::vector<uint8_t> data(tensor_nbytes(type, ne));
    std::normal_distribution<float> nd(0.0f, 1.0f);
    if (has_quantizer(type)) {
        std::vector<float> w(static_cast<size_t>(n_in * n_out));
        for (auto& x : w) x = nd(rng);
        quantize(type, w.data(), data.data(), n_in * n_out);
    } else {
        std::uniform_int_distribution<int> byte(0, 255);
        for (auto& b : data) b = static_cast<uint8_t>(byte(rng));
        const size_t bs = tensor_type_traits(type).block_bytes;
        for (size_t off = 0; off + bs <= data.size(); off += bs) {
            auto put = [&](size_t at, float v) {
                const uint16_t h = fp32_to_fp16(v);
                data[off + at] = static_cast<uint8_t>(h & 0xFF);
                data[off + at + 1] = static_cast<uint8_t>(h >> 8);
            };
            if (type == TensorType::Q4_K) {
                put(0, 0.01f + 0.001f * static_cast<float>(byte(rng)));
                put(2, 0.005f * static_cast<float>(byte(rng)) / 255.0f);
            } else if (type == TensorType::Q6_K) {
                put(208, 0.001f + 0.0001f * static_cast<float>(byte(rng)));
            }
        }
    }
    deq.resize(static_cast<size_t>(n_in * n_out));
    dequantize(type, data.data(), deq.data(), n_in * n_out);
    return data;
}

// Max abs error a rounding of the activations can cause for row w (length n) and activations x.
double allowed_error(cpu::ActFormat f, const float* w, const float* x, int64_t n) {
    double bound = 0.0, mag = 0.0;
    auto block = [&](int64_t b0, int64_t len) {
        double amax = 0.0, sw = 0.0;
        for (int64_t i = b0; i < b0 + len; ++i) {
            amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
            sw += std::fabs(static_cast<double>(w[i]));
        }
        // Half a step of amax/127, plus the fp16 rounding of the block scale (2^-11 relative).
        bound += sw * amax * (0.5 / 127.0 + 1.0 / 2048.0);
    };
    for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(w[i]) * x[i]);
    switch (f) {
        case cpu::ActFormat::F32: break;
        case cpu::ActFormat::F16: bound = mag / 2048.0; break;
        case cpu::ActFormat::BF16: bound = mag / 256.0; break;
        case cpu::ActFormat::Q8_0:
            for (int64_t b = 0; b < n; b += 32) block(b, 32);
            break;
        case cpu::ActFormat::Q8_K:
            for (int64_t b = 0; b < n; b += 256) block(b, 256);
            break;
        case cpu::ActFormat::I8_ROW: block(0, n); break;
    }
    return bound * 1.0001 + 1e-5 * mag + 1e-6;
}

}  // namespace

class TestCpuMatmul : public QObject {
    Q_OBJECT
private slots:
    void matches_dequantized_data() {
        QTest::addColumn<int>("type");
        for (int t = 0; t < static_cast<int>(TensorType::COUNT); ++t)
            QTest::newRow(tensor_type_name(static_cast<TensorType>(t))) << t;
    }
    void matches_dequantized() {
        QFETCH(int, type);
        const TensorType tt = static_cast<TensorType>(type);
        const int64_t blk = std::max<int64_t>(tensor_type_traits(tt).block_size, 256);
        std::mt19937 rng(1234u + static_cast<unsigned>(type));
        const Case cases[] = {{tt, blk, 7, 1}, {tt, 2 * blk, 13, 3}, {tt, blk, 1, 2}, {tt, 3 * blk, 33, 5}};
        int checked = 0;
        for (const Case& c : cases) {
            std::vector<float> deq;
            const std::vector<uint8_t> data = make_weights(tt, c.n_in, c.n_out, rng, deq);
            std::vector<float> x(static_cast<size_t>(c.n_in * c.n_tok));
            std::normal_distribution<float> nd(0.0f, 1.0f);
            for (auto& v : x) v = nd(rng);
            cpu::Weight w{tt, data.data(), c.n_in, c.n_out};
            for (int threads : {1, 2, 3}) {
                cpu::ThreadPool pool(threads);
                cpu::Activations acts;
                std::vector<float> y(static_cast<size_t>(c.n_out * c.n_tok), NAN);
                cpu::matmul(w, x.data(), c.n_tok, y.data(), pool, acts);
                for (int64_t t = 0; t < c.n_tok; ++t) {
                    for (int64_t o = 0; o < c.n_out; ++o) {
                        double ref = 0.0;
                        const float* wr = deq.data() + o * c.n_in;
                        const float* xr = x.data() + t * c.n_in;
                        for (int64_t i = 0; i < c.n_in; ++i) ref += static_cast<double>(wr[i]) * xr[i];
                        const double got = y[static_cast<size_t>(t * c.n_out + o)];
                        const double tol = allowed_error(cpu::act_format(tt), wr, xr, c.n_in);
                        if (!(std::fabs(got - ref) <= tol))
                            QFAIL(qPrintable(QString("%1 n_in=%2 row %3 tok %4 threads %5: got %6, expected %7 (tol %8)")
                                                 .arg(tensor_type_name(tt)).arg(c.n_in).arg(o).arg(t).arg(threads)
                                                 .arg(got).arg(ref).arg(tol)));
                        ++checked;
                    }
                }
            }
        }
        QVERIFY(checked > 100);
    }

    // Q8_0 activations: the integer path must equal Σ d_w·d_x·Σq·q exactly as llama.cpp defines it, which
    // for a weight of all-ones rows reduces to the dequantized Q8_0 activations' sum.
    void q8_0_activation_rounding() {
        std::vector<float> ones(32, 1.0f);
        std::vector<uint8_t> w(34);
        quantize(TensorType::Q8_0, ones.data(), w.data(), 32);  // d = 1/127, q = 127
        std::vector<float> x(32);
        for (int i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i - 10) * 0.37f;
        cpu::ThreadPool pool(1);
        cpu::Activations acts;
        float y = 0;
        cpu::matmul(cpu::Weight{TensorType::Q8_0, w.data(), 32, 1}, x.data(), 1, &y, pool, acts);
        // Expected: amax = 21·0.37, d = fp16(amax/127), q = round-half-even(x·127/amax).
        const float amax = 21 * 0.37f;
        const float d = fp16_to_fp32(fp32_to_fp16(amax / 127.0f));
        int sumq = 0;
        for (float v : x) sumq += static_cast<int>(std::nearbyint(v * (127.0f / amax)));
        const float dw = fp16_to_fp32(fp32_to_fp16(1.0f / 127.0f));
        QCOMPARE(y, dw * d * static_cast<float>(127 * sumq));
    }

    void rejects_bad_row_length() {
        std::vector<float> x(48, 1.0f);
        cpu::Activations acts;
        bool threw = false;
        try {
            acts.prepare(cpu::ActFormat::Q8_0, x.data(), 1, 48);
        } catch (const bonsai::Error&) {
            threw = true;
        }
        QVERIFY(threw);
    }
};

QTEST_GUILESS_MAIN(TestCpuMatmul)
#include "test_cpu_matmul.moc"
