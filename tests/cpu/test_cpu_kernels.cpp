// SIMD matmul kernels (every ISA family this machine has, forced through set_isa_override) against a
// float64 reference: the weights dequantized with bonsai::dequantize and the activations decoded from
// the quantized blocks the kernel consumed (Q8_0: f32 d + 32 int8; Q8_K: f32 d + 256 int8). The
// kernels' integer sums are exact, so only float summation error remains (bound 1e-5 relative to
// Σ|w·x|); a wrong lane, shift, sign or scale is far outside it. Also checks that R16 repacking is
// lossless (repacked then unpacked rows equal the GGUF bytes) and that repacked weights give the same
// results as the native scalar kernel. Shapes include row counts that are not a multiple of the
// 16-row block, token counts around the 4- and 8-token tiles, and 1, 2 and 3 threads.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/repack.h"
#include "bonsai/tensor_type.h"

using namespace bonsai;

namespace {

struct Quantized {
    std::vector<uint8_t> native, r16;
    std::vector<float> deq;
};

Quantized make(TensorType type, int64_t n_in, int64_t n_out, std::mt19937& rng) {
    Quantized q;
    const int64_t ne[4] = {n_in, n_out, 1, 1};
    q.native.resize(tensor_nbytes(type, ne));
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> w(static_cast<size_t>(n_in * n_out));
    for (auto& x : w) x = nd(rng);
    quantize(type, w.data(), q.native.data(), n_in * n_out);
    q.deq.resize(w.size());
    dequantize(type, q.native.data(), q.deq.data(), n_in * n_out);
    if (cpu::r16_eligible(type, n_in)) {
        q.r16.resize(q.native.size());
        cpu::repack_r16(cpu::Weight{type, q.native.data(), n_in, n_out, cpu::Layout::Native}, q.r16.data());
    }
    return q;
}

// Activation row t as the kernel saw it, in float64.
std::vector<double> decoded_acts(const cpu::Activations& a, int64_t t) {
    const int64_t n = a.n_in();
    std::vector<double> x(static_cast<size_t>(n));
    const uint8_t* p = a.row(t);
    const bool k = a.format() == cpu::ActFormat::Q8_K;
    const int64_t blk = k ? 256 : 32, bytes = k ? 292 : 36;
    for (int64_t b = 0; b < n / blk; ++b) {
        float d;
        std::memcpy(&d, p + b * bytes, 4);
        const int8_t* q = reinterpret_cast<const int8_t*>(p + b * bytes + 4);
        for (int64_t i = 0; i < blk; ++i) x[static_cast<size_t>(b * blk + i)] = static_cast<double>(d) * q[i];
    }
    return x;
}

std::vector<cpu::Isa> isas() {
    std::vector<cpu::Isa> v{cpu::Isa::Scalar};
    if (cpu::detected_isa() >= cpu::Isa::Avx2) v.push_back(cpu::Isa::Avx2);
    if (cpu::detected_isa() >= cpu::Isa::Avx512) v.push_back(cpu::Isa::Avx512);
    return v;
}

}  // namespace

class TestCpuKernels : public QObject {
    Q_OBJECT
private slots:
    void cleanup() { cpu::reset_isa_override(); }

    void repackRoundTrip() {
        std::mt19937 rng(7);
        for (TensorType type : {TensorType::Q1_0, TensorType::Q2_0}) {
            for (int64_t n_in : {512, 1536}) {
                const int64_t n_out = 5;
                Quantized q = make(type, n_in, n_out, rng);
                const cpu::Weight r{type, q.r16.data(), n_in, n_out, cpu::Layout::R16};
                const size_t rb = row_nbytes(type, n_in);
                std::vector<uint8_t> row(rb);
                for (int64_t o = 0; o < n_out; ++o) {
                    cpu::unpack_row_r16(r, o, row.data());
                    QVERIFY2(std::memcmp(row.data(), q.native.data() + rb * static_cast<size_t>(o), rb) == 0,
                             qPrintable(QString("%1 n_in %2 row %3").arg(tensor_type_name(type)).arg(n_in).arg(o)));
                }
            }
        }
        QVERIFY(!cpu::r16_eligible(TensorType::Q1_0, 384));
        QVERIFY(!cpu::r16_eligible(TensorType::TQ2_0, 512));
    }

    void kernelsMatchReference_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<qlonglong>("n_in");
        QTest::addColumn<qlonglong>("n_out");
        QTest::addColumn<qlonglong>("n_tok");
        QTest::addColumn<int>("threads");
        int i = 0;
        const struct {
            TensorType t;
            int64_t n_in;
        } shapes[] = {{TensorType::Q1_0, 512}, {TensorType::Q1_0, 1536}, {TensorType::Q2_0, 512}, {TensorType::Q2_0, 1024},
                      {TensorType::TQ2_0, 256}, {TensorType::TQ2_0, 768}, {TensorType::Q1_0, 384}};
        for (const auto& s : shapes)
            for (int64_t n_out : {1, 17, 40})
                for (int64_t n_tok : {1, 3, 4, 9})
                    for (int th : {1, 2, 3}) {
                        if ((n_out + n_tok + th) % 2 && n_tok > 1) continue;  // keep the matrix small
                        QTest::newRow(qPrintable(QString("%1_%2x%3_t%4_th%5_%6")
                                                     .arg(tensor_type_name(s.t))
                                                     .arg(s.n_in)
                                                     .arg(n_out)
                                                     .arg(n_tok)
                                                     .arg(th)
                                                     .arg(i++)))
                            << static_cast<int>(s.t) << qlonglong(s.n_in) << qlonglong(n_out) << qlonglong(n_tok) << th;
                    }
    }

    void kernelsMatchReference() {
        QFETCH(int, type);
        QFETCH(qlonglong, n_in);
        QFETCH(qlonglong, n_out);
        QFETCH(qlonglong, n_tok);
        QFETCH(int, threads);
        const auto t = static_cast<TensorType>(type);
        std::mt19937 rng(static_cast<unsigned>(n_in * 31 + n_out * 7 + n_tok * 3 + threads));
        Quantized q = make(t, n_in, n_out, rng);
        std::vector<float> x(static_cast<size_t>(n_in * n_tok));
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (auto& v : x) v = nd(rng);
        cpu::ThreadPool pool(threads);
        cpu::Activations acts;
        acts.prepare(cpu::act_format(t), x.data(), n_tok, n_in);
        // float64 reference and its error scale.
        std::vector<double> ref(static_cast<size_t>(n_tok * n_out)), mag(ref.size());
        for (int64_t tk = 0; tk < n_tok; ++tk) {
            const std::vector<double> xa = decoded_acts(acts, tk);
            for (int64_t o = 0; o < n_out; ++o) {
                double s = 0, m = 0;
                for (int64_t i = 0; i < n_in; ++i) {
                    const double p = static_cast<double>(q.deq[static_cast<size_t>(o * n_in + i)]) * xa[static_cast<size_t>(i)];
                    s += p;
                    m += std::fabs(p);
                }
                ref[static_cast<size_t>(tk * n_out + o)] = s;
                mag[static_cast<size_t>(tk * n_out + o)] = m;
            }
        }
        for (cpu::Isa isa : isas()) {
            cpu::set_isa_override(isa);
            for (int layout = 0; layout < 2; ++layout) {
                if (layout == 1 && q.r16.empty()) continue;
                const cpu::Weight w{t, layout ? q.r16.data() : q.native.data(), n_in, n_out,
                                    layout ? cpu::Layout::R16 : cpu::Layout::Native};
                std::vector<float> y(ref.size(), std::nanf(""));
                cpu::matmul_prepared(w, acts, y.data(), pool);
                for (size_t k = 0; k < y.size(); ++k) {
                    const double err = std::fabs(static_cast<double>(y[k]) - ref[k]);
                    QVERIFY2(err <= 1e-5 * mag[k] + 1e-6,
                             qPrintable(QString("isa %1 layout %2 out %3: got %4 want %5")
                                            .arg(cpu::isa_name(isa))
                                            .arg(layout)
                                            .arg(k)
                                            .arg(static_cast<double>(y[k]))
                                            .arg(ref[k])));
                }
            }
        }
    }

    void overrideIsClamped() {
        cpu::set_isa_override(cpu::Isa::Avx512);
        QVERIFY(cpu::active_isa() <= cpu::detected_isa());
        cpu::set_isa_override(cpu::Isa::Scalar);
        QCOMPARE(cpu::active_isa(), cpu::Isa::Scalar);
        cpu::reset_isa_override();
        QCOMPARE(cpu::active_isa(), cpu::detected_isa());
    }
};

QTEST_GUILESS_MAIN(TestCpuKernels)
#include "test_cpu_kernels.moc"
