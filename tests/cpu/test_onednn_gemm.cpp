// oneDNN prefill GEMM (engine/backend/cpu/onednn_gemm.*) against a float64 reference: weights from
// bonsai::dequantize (the quant area's format decoders), activations decoded from the Q8_0 / Q8_K blocks
// the GEMM consumed (f32 d + int8 q). Bounds: with Precision::F32 only float rounding remains (1e-5
// relative to Σ|w·x|); with BF16 the weight value and the activation value are each rounded to bf16
// (unit roundoff 2^-8 each: 8 significant bits, so <= 2^-7 + 2^-16 per product), bound (2^-7 + 1e-5)·Σ|w·x|.
// A wrong element, sign, scale or panel offset is far outside both for the small row lengths used.
// Shapes: row counts that are not a multiple of the panel (1, 37, 304 > 256), n_tok 1..17 and 64,
// Native, R16, R16M and R16L layouts, 1-3 threads. Also: the policy hook and the AMX detection's consistency.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/onednn_gemm.h"
#include "backend/cpu/repack.h"
#include "bonsai/error.h"
#include "bonsai/tensor_type.h"
#include "quantized_weights.h"

using namespace bonsai;
using test::Quantized;
using test::make;

namespace {


// Checks y against Σ w·x in float64 with relative bound `rel` of Σ|w·x|; returns the number of failures.
int check(const Quantized& q, const cpu::Activations& a, int64_t n_in, int64_t n_out, const std::vector<float>& y,
          double rel, const char* what) {
    int bad = 0;
    std::vector<double> refs, mags;
    test::reference_products(q, a, n_in, n_out, refs, mags);
    for (int64_t t = 0; t < a.n_rows(); ++t) {
        for (int64_t o = 0; o < n_out; ++o) {
            const double ref = refs[static_cast<size_t>(t * n_out + o)], mag = mags[static_cast<size_t>(t * n_out + o)];
            const double got = y[static_cast<size_t>(t * n_out + o)];
            if (!(std::fabs(got - ref) <= rel * mag + 1e-30)) {
                if (bad < 3) qWarning("%s: t=%lld o=%lld got %.8g want %.8g (bound %.3g)", what, static_cast<long long>(t),
                                      static_cast<long long>(o), got, ref, rel * mag);
                ++bad;
            }
        }
    }
    return bad;
}

struct Case {
    TensorType type;
    int64_t n_in;
};

}  // namespace

class TestOnednnGemm : public QObject {
    Q_OBJECT
private slots:
    void cleanup() { cpu::onednn::set_policy(cpu::onednn::Policy::Auto); }

    void amxDetectionIsConsistent() {
        const bool g = cpu::amx_granted();
        const std::string r = cpu::amx_reason();
        QVERIFY(!r.empty());
        QCOMPARE(cpu::amx_granted(), g);  // computed once, stable
        QCOMPARE(std::string(cpu::amx_reason()), r);
        QCOMPARE(r == "granted", g);
        const std::string d = cpu::onednn::describe();
        QVERIFY2(d.find(r) != std::string::npos, d.c_str());
        qInfo("AMX: %s | %s", r.c_str(), d.c_str());
    }

    void gemmMatchesFloat64() {
        std::mt19937 rng(11);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        const Case cases[] = {{TensorType::Q1_0, 128}, {TensorType::Q1_0, 512}, {TensorType::Q2_0, 64},
                              {TensorType::Q2_0, 512}, {TensorType::TQ2_0, 256}, {TensorType::TQ1_0, 512}};
        std::vector<int64_t> toks;
        for (int64_t t = 1; t <= 17; ++t) toks.push_back(t);
        toks.push_back(64);
        int runs = 0;
        const bool bf16 = cpu::onednn::available(cpu::onednn::Precision::BF16);
        QVERIFY(cpu::onednn::available(cpu::onednn::Precision::F32));
        if (!bf16) qInfo("oneDNN has no bf16 matmul on this CPU: f32 only, bf16 must throw a bonsai::Error");
        for (const Case& c : cases) {
            for (int64_t n_out : {1, 37, 304}) {  // 304: whole 16-row blocks (R16L)
                const Quantized q = make(c.type, c.n_in, n_out, rng);
                for (int layout = 0; layout < 4; ++layout) {
                    const std::vector<uint8_t>& bytes = layout == 0 ? q.native : layout == 1 ? q.r16 : layout == 2 ? q.r16m : q.r16l;
                    if (bytes.empty()) continue;
                    const cpu::Weight w{c.type, bytes.data(), c.n_in, n_out,
                                        layout == 0   ? cpu::Layout::Native
                                        : layout == 1 ? cpu::Layout::R16
                                        : layout == 2 ? cpu::Layout::R16M
                                                      : cpu::Layout::R16L};
                    QVERIFY(cpu::onednn::supports(w));
                    for (int64_t n_tok : toks) {
                        // Cover every n_tok at one thread count and precision, the rest on a rotating subset.
                        const int threads = 1 + static_cast<int>(n_tok % 3);
                        cpu::ThreadPool pool(threads);
                        std::vector<float> x(static_cast<size_t>(n_tok * c.n_in));
                        for (auto& v : x) v = nd(rng);
                        cpu::Activations a;
                        a.prepare(cpu::act_format(c.type), x.data(), n_tok, c.n_in);
                        for (auto p : {cpu::onednn::Precision::BF16, cpu::onednn::Precision::F32}) {
                            // Without bf16 (AVX2-only CPUs) f32 takes every n_tok; with it, a rotating subset.
                            if (p == cpu::onednn::Precision::BF16 && !bf16) {
                                std::vector<float> y(static_cast<size_t>(n_tok * n_out));
                                QVERIFY_THROWS_EXCEPTION(Error, cpu::onednn::gemm(w, a, y.data(), pool, p));
                                continue;
                            }
                            if (p == cpu::onednn::Precision::F32 && bf16 && n_tok % 4 != 1 && n_tok != 64) continue;
                            std::vector<float> y(static_cast<size_t>(n_tok * n_out), std::nanf(""));
                            cpu::onednn::gemm(w, a, y.data(), pool, p);
                            const double rel = p == cpu::onednn::Precision::F32 ? 1e-5 : 1.0 / 128 + 1e-5;
                            const std::string what = std::string(tensor_type_name(c.type)) + " n_in=" + std::to_string(c.n_in) +
                                                     " n_out=" + std::to_string(n_out) + " n_tok=" + std::to_string(n_tok) +
                                                     (layout == 0 ? " native" : layout == 1 ? " R16" : layout == 2 ? " R16M" : " R16L") +
                                                     (p == cpu::onednn::Precision::F32 ? " f32" : " bf16");
                            QVERIFY2(check(q, a, c.n_in, n_out, y, rel, what.c_str()) == 0, what.c_str());
                            ++runs;
                        }
                    }
                }
            }
        }
        QVERIFY(runs > 300);
    }

    void policyHook() {
        std::mt19937 rng(5);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        const int64_t n_in = 512, n_out = 40;
        const Quantized q = make(TensorType::TQ2_0, n_in, n_out, rng);
        const cpu::Weight w{TensorType::TQ2_0, q.native.data(), n_in, n_out, cpu::Layout::Native};
        cpu::ThreadPool pool(2);
        for (int64_t n_tok : {cpu::onednn::kMinTokens - 1, cpu::onednn::kMinTokens}) {
            std::vector<float> x(static_cast<size_t>(n_tok * n_in));
            for (auto& v : x) v = nd(rng);
            cpu::Activations a;
            a.prepare(cpu::ActFormat::Q8_K, x.data(), n_tok, n_in);
            std::vector<float> y(static_cast<size_t>(n_tok * n_out));
            cpu::onednn::set_policy(cpu::onednn::Policy::Never);
            QVERIFY(!cpu::onednn::try_gemm(w, a, y.data(), pool));
            cpu::onednn::set_policy(cpu::onednn::Policy::Always);
            // The hook multiplies in bf16: where oneDNN has none it declines (and stays off), and the
            // public matmul below runs the own kernels, still within the bound.
            const bool bf16 = cpu::onednn::available(cpu::onednn::Precision::BF16);
            QCOMPARE(cpu::onednn::try_gemm(w, a, y.data(), pool), bf16 && n_tok >= cpu::onednn::kMinTokens);
            // Through the public matmul with the policy forcing oneDNN: still within the bf16 bound.
            std::fill(y.begin(), y.end(), std::nanf(""));
            cpu::Activations scratch;
            cpu::matmul(w, x.data(), n_tok, y.data(), pool, scratch);
            QCOMPARE(check(q, scratch, n_in, n_out, y, 1.0 / 128 + 1e-5, "matmul hook"), 0);
        }
        // The measured table never picks oneDNN for short batches (own kernels won all n_tok = 64 runs).
        for (TensorType t : {TensorType::Q1_0, TensorType::Q2_0, TensorType::TQ1_0, TensorType::TQ2_0})
            QVERIFY(!cpu::onednn::preferred(cpu::Weight{t, nullptr, 2048, 151936, cpu::Layout::Native}, 64));
        // Q1_0 in its VBMI table form stays on the own kernels at every batch size (measured faster, also
        // against AMX), and so does Q2_0.
        for (int64_t n_tok : {64, 256, 512, 4096}) {
            QVERIFY(!cpu::onednn::preferred(cpu::Weight{TensorType::Q1_0, nullptr, 2048, 2048, cpu::Layout::R16L}, n_tok));
            // Q2_0 neither (own won every shape and batch against AMX too).
            QVERIFY(!cpu::onednn::preferred(cpu::Weight{TensorType::Q2_0, nullptr, 6144, 2048, cpu::Layout::R16}, n_tok));
        }
        // Types without a oneDNN path are declined by the hook and rejected by gemm().
        const int64_t ne[4] = {64, 2, 1, 1};
        std::vector<uint8_t> q8(tensor_nbytes(TensorType::Q8_0, ne), 0);
        const cpu::Weight w8{TensorType::Q8_0, q8.data(), 64, 2, cpu::Layout::Native};
        QVERIFY(!cpu::onednn::supports(w8));
        std::vector<float> x(64 * 16, 0.5f), y(2 * 16);
        cpu::Activations a;
        a.prepare(cpu::ActFormat::Q8_0, x.data(), 16, 64);
        QVERIFY(!cpu::onednn::try_gemm(w8, a, y.data(), pool));
        QVERIFY_THROWS_EXCEPTION(Error, cpu::onednn::gemm(w8, a, y.data(), pool));
    }
};

QTEST_GUILESS_MAIN(TestOnednnGemm)
#include "test_onednn_gemm.moc"
