// Vulkan backend ops vs naive float64 references. Weights are random bytes (with sane fp16 scales)
// so that every code pattern occurs, and their meaning comes from the reference dequantizer
// bonsai::dequantize (engine/quant), not from the shaders. Runs under VK_LAYER_KHRONOS_validation
// (BONSAI_VULKAN_VALIDATION=1 from CMake) and requires zero validation messages after each test.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bonsai/error.h"
#include "bonsai/tensor_type.h"
#include "bonsai/vulkan_backend.h"

using bonsai::TensorType;
using bonsai::VulkanBackend;
using bonsai::VulkanBuffer;
using bonsai::VulkanMemory;

Q_DECLARE_METATYPE(bonsai::TensorType)
Q_DECLARE_METATYPE(bonsai::RopeStyle)

namespace {

// Byte offset of the fp16 scale inside one block (formats.md 2.3), or -1 for F32/F16/BF16.
int scale_offset(TensorType t) {
    switch (t) {
    case TensorType::TQ1_0: return 52;
    case TensorType::PTQ1_0: return 26;
    case TensorType::TQ2_0: return 64;
    case TensorType::Q6_K: return 208;
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: return -1;
    default: return 0;
    }
}

// Checks |got - want| <= rel * magnitude + abs_tol element by element; reports the first failure.
bool close_all(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& magnitude,
               double rel, double abs_tol, QString* why) {
    if (got.size() != want.size()) {
        *why = QString("size %1 vs %2").arg(got.size()).arg(want.size());
        return false;
    }
    for (size_t i = 0; i < got.size(); ++i) {
        double err = std::fabs(double(got[i]) - want[i]);
        if (!(err <= rel * magnitude[i] + abs_tol)) {
            *why = QString("element %1: got %2, want %3 (|err| %4, allowed %5)")
                       .arg(i).arg(double(got[i]), 0, 'g', 9).arg(want[i], 0, 'g', 9).arg(err)
                       .arg(rel * magnitude[i] + abs_tol);
            return false;
        }
    }
    return true;
}

// What matvec_dp.comp multiplies: x rounded to int8 per block of 32 (d = max|x| / 127, q = x * 127 /
// max|x| rounded half away from zero, in float as the shader does), as doubles q * d; step[k] = d of
// k's block (one rounding step: where the GPU's float division lands on the other side of a .5, q may
// differ by one).
// I2_S (row_scale): one scale for the whole row, d = max|x| / 127.
std::vector<double> int8_blocks(const std::vector<double>& x, std::vector<double>* step, bool row_scale = false) {
    std::vector<double> out(x.size());
    step->assign(x.size(), 0.0);
    const size_t bs = row_scale ? x.size() : 32;
    for (size_t b = 0; b < x.size(); b += bs) {
        const size_t e = std::min(x.size(), b + bs);
        float am = 0.0f;
        for (size_t k = b; k < e; ++k) am = std::max(am, std::fabs(float(x[k])));
        const float id = am > 0.0f ? 127.0f / am : 0.0f, d = am / 127.0f;
        for (size_t k = b; k < e; ++k) {
            const float t = float(x[k]) * id;
            const int q = std::clamp(int(t + (t < 0.0f ? -0.5f : 0.5f)), -127, 127);
            out[k] = double(q) * double(d);
            (*step)[k] = d;
        }
    }
    return out;
}

// want[r] = sum_k w[r][k] x[k] over `rows` rows of n floats, and the magnitude a row's error is judged
// against (close_all with relative tolerance `rel`): sum |w x|, plus, where x was rounded to int8 steps
// (step[k] > 0), two steps' worth of slack (the reference's double x and the shader's float x may round
// to neighbouring steps).
void int8_reference(const std::vector<float>& w, uint32_t n, uint32_t rows, const std::vector<double>& x,
                    const std::vector<double>& step, double rel, std::vector<double>* want, std::vector<double>* mag) {
    want->assign(rows, 0.0);
    mag->assign(rows, 0.0);
    for (uint32_t r = 0; r < rows; ++r) {
        double sum = 0, m = 0, sl = 0;
        for (uint32_t k = 0; k < n; ++k) {
            const double p = double(w[size_t(r) * n + k]) * x[k];
            sum += p;
            m += std::fabs(p);
            sl = std::max(sl, std::fabs(double(w[size_t(r) * n + k])) * step[k]);
        }
        (*want)[r] = sum;
        (*mag)[r] = m + 2 * sl / rel;
    }
}

}  // namespace

class TestVulkanOps : public QObject {
    Q_OBJECT

    std::unique_ptr<VulkanBackend> vk_;
    std::mt19937 rng_{20240611};
    uint64_t messages_at_start_ = 0;

    std::vector<float> random_floats(size_t n, float lo, float hi) {
        std::uniform_real_distribution<float> d(lo, hi);
        std::vector<float> v(n);
        for (float& x : v) x = d(rng_);
        return v;
    }

    // Random weight bytes for `rows` rows of ne0 elements; block scales set to finite fp16 values of
    // either sign; F32/F16/BF16 hold random values in [-1, 1].
    std::vector<uint8_t> random_weights(TensorType t, uint32_t ne0, uint32_t rows) {
        const size_t bytes = bonsai::row_nbytes(t, ne0) * rows;
        std::vector<uint8_t> w(bytes);
        if (t == TensorType::F32) {
            std::vector<float> f = random_floats(size_t(ne0) * rows, -1.0f, 1.0f);
            std::memcpy(w.data(), f.data(), bytes);
            return w;
        }
        if (t == TensorType::F16 || t == TensorType::BF16) {
            std::vector<float> f = random_floats(size_t(ne0) * rows, -1.0f, 1.0f);
            for (size_t i = 0; i < f.size(); ++i) {
                uint32_t bits;
                std::memcpy(&bits, &f[i], 4);
                // BF16: the float's high half (truncated; any 16-bit pattern of a finite value will do).
                const uint16_t h = t == TensorType::F16 ? bonsai::fp32_to_fp16(f[i]) : static_cast<uint16_t>(bits >> 16);
                std::memcpy(w.data() + 2 * i, &h, 2);
            }
            return w;
        }
        std::uniform_int_distribution<int> byte(0, 255);
        for (uint8_t& b : w) b = static_cast<uint8_t>(byte(rng_));
        if (t == TensorType::I2_S) {  // codes 0..2 only, then the tensor's float32 scale in a 32-byte tail
            for (uint8_t& b : w) {
                uint8_t v = 0;
                for (int k = 0; k < 4; ++k) v = static_cast<uint8_t>(v | (byte(rng_) % 3) << (2 * k));
                b = v;
            }
            const float scale = 0.0375f;
            w.resize(bytes + 32);
            std::memcpy(w.data() + bytes, &scale, 4);
            return w;
        }
        const auto& tr = bonsai::tensor_type_traits(t);
        std::uniform_real_distribution<float> sc(0.01f, 0.2f);
        for (size_t blk = 0; blk < bytes / tr.block_bytes; ++blk) {
            float s = sc(rng_) * (blk % 3 == 1 ? -1.0f : 1.0f);
            uint16_t h = bonsai::fp32_to_fp16(s);
            std::memcpy(w.data() + blk * tr.block_bytes + scale_offset(t), &h, 2);
            if (t == TensorType::Q4_K) {  // dmin, the second fp16 of the block
                const uint16_t hm = bonsai::fp32_to_fp16(sc(rng_));
                std::memcpy(w.data() + blk * tr.block_bytes + 2, &hm, 2);
            }
        }
        return w;
    }

    // Dequantized rows through the reference implementation.
    static std::vector<float> reference_rows(TensorType t, const std::vector<uint8_t>& w, uint32_t ne0, uint32_t rows) {
        std::vector<float> out(size_t(ne0) * rows);
        bonsai::dequantize(t, w.data(), out.data(), int64_t(out.size()));
        return out;
    }

    VulkanBuffer host_floats(const std::vector<float>& v, size_t pad_floats = 0) {
        VulkanBuffer b = vk_->create_buffer((v.size() + pad_floats) * 4, VulkanMemory::HostVisible);
        std::memset(b.data(), 0, b.size());
        std::memcpy(static_cast<float*>(b.data()) + pad_floats, v.data(), v.size() * 4);
        return b;
    }

    static std::vector<float> read_floats(const VulkanBuffer& b, size_t n, size_t pad_floats = 0) {
        std::vector<float> v(n);
        std::memcpy(v.data(), static_cast<const float*>(b.data()) + pad_floats, n * 4);
        return v;
    }

    VulkanBuffer device_bytes(const std::vector<uint8_t>& bytes, size_t offset) {
        VulkanBuffer b = vk_->create_buffer(bytes.size() + offset, VulkanMemory::DeviceLocal);
        vk_->upload(b, offset, bytes.data(), bytes.size());
        return b;
    }

    static QList<TensorType> weight_types() {
        return {TensorType::F32,  TensorType::F16,  TensorType::BF16,  TensorType::Q8_0,  TensorType::Q4_0,
                TensorType::Q4_K, TensorType::Q6_K, TensorType::Q1_0,  TensorType::Q2_0,  TensorType::PQ2_0,
                TensorType::PTQ1_0, TensorType::TQ1_0, TensorType::TQ2_0, TensorType::I2_S};
    }
    // The types of matvec_w.comp (word-decoding and table matvecs, split-K); all but I2_S take fused inputs.
    static QList<TensorType> word_types() {
        return {TensorType::Q1_0, TensorType::Q2_0, TensorType::PQ2_0, TensorType::TQ2_0, TensorType::I2_S};
    }

    // Byte offset of the weights inside their buffer: unaligned for byte-read block types on purpose.
    static size_t weight_offset(TensorType t) {
        return t == TensorType::F32 ? 8 : t == TensorType::F16 || t == TensorType::BF16 ? 6 : 7;
    }

    // Runs W.X through matvec (ncols == 0) or matmul and compares against the float64 reference.
    // With accumulate (matvec only) the result is added to y's previous contents (-7 everywhere).
    // With repeat > 1 (matvec with accumulate) the matvec is recorded that many times in one submit,
    // so y = -7 + repeat * W.x (split-K counters must be back at 0 after each dispatch).
    // w_off: byte offset of the weights in their buffer (weight_offset(t) when negative).
    // int8: the matvec multiplies int8-rounded x (matvec_dp.comp; see int8_blocks): the reference
    // rounds x the same way and allows two rounding steps of difference per row.
    void check_weight_op(TensorType t, uint32_t ne0, uint32_t rows, uint32_t ncols, bool use_matmul,
                         bool accumulate = false, int repeat = 1, int w_offset = -1, bool int8 = false) {
        std::vector<uint8_t> w = random_weights(t, ne0, rows);
        std::vector<float> wf = reference_rows(t, w, ne0, rows);
        const uint32_t cols = std::max<uint32_t>(ncols, 1);
        std::vector<float> x = random_floats(size_t(ne0) * cols, -1.0f, 1.0f);
        const size_t w_off = w_offset < 0 ? weight_offset(t) : size_t(w_offset), x_pad = 3, y_pad = 5;
        VulkanBuffer wb = device_bytes(w, w_off);
        VulkanBuffer xb = host_floats(x, x_pad);
        VulkanBuffer yb = host_floats(std::vector<float>(size_t(rows) * cols, -7.0f), y_pad);

        vk_->begin();
        if (use_matmul)
            vk_->matmul(t, {wb, w_off}, ne0, rows, {xb, x_pad * 4}, cols, {yb, y_pad * 4});
        else
            for (int i = 0; i < repeat; ++i)
                vk_->matvec(t, {wb, w_off}, ne0, rows, {xb, x_pad * 4}, {yb, y_pad * 4}, accumulate);
        vk_->submit_and_wait();

        std::vector<double> xd(x.begin(), x.end()), step(x.size(), 0.0);
        if (int8) xd = int8_blocks(xd, &step, t == TensorType::I2_S);  // (matvec only: one column)
        std::vector<double> want(size_t(rows) * cols), mag(size_t(rows) * cols), slack(size_t(rows) * cols);
        for (uint32_t c = 0; c < cols; ++c)
            for (uint32_t r = 0; r < rows; ++r) {
                double s = 0, m = 0, sl = 0;
                for (uint32_t k = 0; k < ne0; ++k) {
                    const double wk = wf[size_t(r) * ne0 + k];
                    double p = wk * xd[size_t(c) * ne0 + k];
                    s += p;
                    m += std::fabs(p);
                    sl = std::max(sl, std::fabs(wk) * step[size_t(c) * ne0 + k]);
                }
                want[size_t(c) * rows + r] = accumulate ? repeat * s - 7.0 : s;
                mag[size_t(c) * rows + r] = repeat * m;
                slack[size_t(c) * rows + r] = 2 * repeat * sl;
            }
        QString why;
        if (!int8) {
            QVERIFY2(close_all(read_floats(yb, want.size(), y_pad), want, mag, 1e-4, 1e-6, &why), qPrintable(why));
            return;
        }
        for (size_t i = 0; i < mag.size(); ++i) mag[i] += slack[i] / 2e-5;  // rel 2e-5 of it = the slack
        QVERIFY2(close_all(read_floats(yb, want.size(), y_pad), want, mag, 2e-5, 1e-6, &why), qPrintable(why));
    }

    // matvec_fused against float64: x' = rms_norm(x) * nw or silu(gate) * up, then W.x' (+ y).
    void check_fused(TensorType type, uint32_t ne0, uint32_t rows, bool norm, bool swiglu, bool accumulate, size_t w_off,
                     bool int8 = false) {
        const float eps = 1e-5f;
        std::vector<uint8_t> w = random_weights(type, ne0, rows);
        std::vector<float> wf = reference_rows(type, w, ne0, rows);
        std::vector<float> x = random_floats(size_t(ne0) * (swiglu ? 2 : 1), -3.0f, 3.0f);
        std::vector<float> nw = random_floats(ne0, 0.5f, 1.5f);
        std::vector<double> xin(ne0);
        if (norm) {
            double ss = 0;
            for (uint32_t k = 0; k < ne0; ++k) ss += double(x[k]) * x[k];
            const double inv = 1.0 / std::sqrt(ss / ne0 + eps);
            for (uint32_t k = 0; k < ne0; ++k) xin[k] = x[k] * inv * nw[k];
        } else {
            for (uint32_t k = 0; k < ne0; ++k) {
                const double g = x[k];
                xin[k] = g / (1.0 + std::exp(-g)) * x[ne0 + k];
            }
        }
        const size_t x_pad = 3, y_pad = 1, n_pad = 7;
        VulkanBuffer wb = device_bytes(w, w_off);
        VulkanBuffer xb = host_floats(x, x_pad), nb = host_floats(nw, n_pad);
        VulkanBuffer yb = host_floats(std::vector<float>(rows, -7.0f), y_pad);
        bonsai::VulkanMatvecInput in;
        in.rms_norm = norm;
        in.norm = {nb, n_pad * 4};
        in.eps = eps;
        in.swiglu = swiglu;
        vk_->begin();
        vk_->matvec_fused(type, {wb, w_off}, ne0, rows, {xb, x_pad * 4}, {yb, y_pad * 4}, in, accumulate);
        vk_->submit_and_wait();
        std::vector<double> step(ne0, 0.0);  // (no slack without int8)
        if (int8) xin = int8_blocks(xin, &step);
        const double rel = int8 ? 2e-5 : 1e-4;
        std::vector<double> want, mag;
        int8_reference(wf, ne0, rows, xin, step, rel, &want, &mag);
        if (accumulate)
            for (double& v : want) v -= 7.0;
        QString why;
        QVERIFY2(close_all(read_floats(yb, rows, y_pad), want, mag, rel, 1e-5, &why), qPrintable(why));
    }

    // Columns of the matvec variant tests (after their own): weight byte offset, shape, split-K target,
    // input (0 plain, 1 rms_norm, 2 swiglu), accumulate.
    static void add_case_columns() {
        QTest::addColumn<int>("w_off");
        QTest::addColumn<uint32_t>("ne0");
        QTest::addColumn<uint32_t>("rows");
        QTest::addColumn<uint32_t>("target");
        QTest::addColumn<int>("input");
        QTest::addColumn<bool>("accumulate");
    }
    // One such case: matvec for a plain input, matvec_fused otherwise (int8: see check_weight_op).
    void run_case(TensorType type, int w_off, uint32_t ne0, uint32_t rows, int input, bool accumulate, bool int8) {
        if (input == 0)
            check_weight_op(type, ne0, rows, 0, false, accumulate, 1, w_off, int8);
        else
            check_fused(type, ne0, rows, input == 1, input == 2, accumulate, size_t(w_off), int8);
    }

private slots:
    void initTestCase() {
        const auto devices = bonsai::list_vulkan_devices();
        if (devices.empty()) QSKIP("no Vulkan device on this machine");
        vk_ = std::make_unique<VulkanBackend>(VulkanBackend::Options::from_environment());
        QVERIFY2(vk_->validation_enabled(), "run through ctest (BONSAI_VULKAN_VALIDATION=1) or set it");
        qInfo("Vulkan device: %s (%s, subgroup %u)", vk_->device().name.c_str(), vk_->device().type.c_str(),
              vk_->device().subgroup_size);
    }

    // Messages are counted per test function, so that a failure names the test that caused it. The
    // process-wide count includes the extra backends some tests open and close.
    void init() { messages_at_start_ = bonsai::vulkan_validation_messages_total(); }

    void cleanup() {
        QCOMPARE(bonsai::vulkan_validation_messages_total() - messages_at_start_, uint64_t(0));
        if (vk_) QCOMPARE(vk_->validation_messages(), uint64_t(0));
    }

    void cleanupTestCase() {
        if (!vk_) return;
        vk_.reset();  // leaked Vulkan objects would be reported now, by vkDestroyDevice
        QCOMPARE(bonsai::vulkan_validation_messages_total(), uint64_t(0));
    }

    // The grid-barrier probe (grid_barrier.comp): one workgroup meets only itself, so every round must pass
    // with no timeout and every word read back as written. With two, lavapipe may not run both at once;
    // whenever no wait gave up, the neighbour's words must all have arrived.
    void gridBarrierProbe() {
        const bonsai::VulkanGridBarrierProbe one = vk_->measure_grid_barrier(1, 20);
        QCOMPARE(one.timeouts, uint64_t(0));
        QCOMPARE(one.mismatches, uint64_t(0));
        QVERIFY(one.us_per_round >= 0.0);
        const bonsai::VulkanGridBarrierProbe two = vk_->measure_grid_barrier(2, 20, 2000);
        qInfo("grid barrier: 1 group %.2f us per round; 2 groups %.2f us, %llu timeouts", one.us_per_round,
              two.us_per_round, static_cast<unsigned long long>(two.timeouts));
        if (two.timeouts == 0) QCOMPARE(two.mismatches, uint64_t(0));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->measure_grid_barrier(0, 20));
    }

    // The roofline's bandwidth measurement: both copies are checked inside it (a pattern in three windows
    // of the source must arrive, else it throws), here on a size that is no multiple of a workgroup's
    // words (so the last threads' bounds and the end window matter). The size is rounded down to 16
    // bytes and never exceeds what was asked.
    void copyBandwidth() {
        const size_t asked = (size_t(3) << 20) + 4 * 16 * 256 + 40;  // 3 MiB + 4 workgroup rows + 2.5 words
        const bonsai::VulkanCopyBandwidth c = vk_->measure_copy_bandwidth(asked, 1);
        QCOMPARE(c.bytes, uint64_t(asked / 16 * 16));
        QVERIFY(c.shader_gb_s > 0.0);
        QVERIFY(c.transfer_gb_s > 0.0);
        QCOMPARE(c.best(), std::max(c.shader_gb_s, c.transfer_gb_s));
        qInfo("copy %llu bytes: shader %.2f GB/s, transfer %.2f GB/s", static_cast<unsigned long long>(c.bytes),
              c.shader_gb_s, c.transfer_gb_s);
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->measure_copy_bandwidth(4095));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->measure_copy_bandwidth(1 << 20, 0));
    }

    // The persistent matvec-chain probe (matvec_chain.comp) with one workgroup, which walks every row block
    // of every phase itself: the chain must match the backend's own matvec() chain up to the int8 rounding
    // of each phase's input (llama.cpp's Q8_0 activation rounding, ~0.4 % relative per phase here).
    void matvecChainProbe() {
        if (!vk_->device().int_dot) QSKIP("the device has no integer dot products");
        // plain, preload, producer-quantized inputs, both; the last two one phase per dispatch
        for (uint32_t flags : {0u, 1u, 2u, 3u, 4u, 6u}) {
            const bonsai::VulkanMatvecChainProbe p = vk_->measure_matvec_chain(3, 1, flags);
            QCOMPARE(p.timeouts, uint64_t(0));
            QVERIFY2(p.rel_diff_first < 0.01, qPrintable(QString::number(p.rel_diff_first)));
            QVERIFY2(p.rel_diff_last < 0.03, qPrintable(QString::number(p.rel_diff_last)));
        }
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->measure_matvec_chain(1, 1, 0));
    }

    // The tensor-core matmul's selection rule (no such device in CI: the rule is checked on synthetic
    // reports), and that a device without VK_NV_cooperative_matrix (lavapipe) keeps the f32 matmul.
    void coopMatmulSelection() {
        bonsai::VulkanCoopShape good;
        good.m = good.n = good.k = 16;
        good.a_f16 = good.b_f16 = good.c_f32 = good.d_f32 = good.subgroup_scope = true;
        bonsai::VulkanCoopShape int8 = good;  // an s8 shape of the same size (A/B not f16)
        int8.a_f16 = int8.b_f16 = false;
        bonsai::VulkanCoopSupport h100;  // what an H100 reports (several shapes, the f16/f32 16x16x16 one among them)
        h100.extension = h100.feature = h100.shader_float16 = h100.memory_model = true;
        h100.subgroup_size = 32;
        bonsai::VulkanCoopShape f16acc = good;
        f16acc.c_f32 = f16acc.d_f32 = false;
        h100.shapes = {int8, f16acc, good};
        QVERIFY(bonsai::vulkan_coop_matmul_usable(h100));
        auto without = [&](auto change) {
            bonsai::VulkanCoopSupport s = h100;
            change(s);
            return bonsai::vulkan_coop_matmul_usable(s);
        };
        QVERIFY(!without([](auto& s) { s.extension = false; }));
        QVERIFY(!without([](auto& s) { s.feature = false; }));
        QVERIFY(!without([](auto& s) { s.shader_float16 = false; }));
        QVERIFY(!without([](auto& s) { s.memory_model = false; }));
        QVERIFY(!without([](auto& s) { s.subgroup_size = 64; }));
        QVERIFY(!without([](auto& s) { s.subgroup_size = 8; }));
        QVERIFY(!without([&](auto& s) { s.shapes = {int8, f16acc}; }));
        QVERIFY(!without([](auto& s) { s.shapes.clear(); }));
        QVERIFY(!without([&](auto& s) { s.shapes = {good}; s.shapes[0].k = 8; }));
        QVERIFY(!without([&](auto& s) { s.shapes = {good}; s.shapes[0].m = 8; }));
        QVERIFY(!without([&](auto& s) { s.shapes = {good}; s.shapes[0].subgroup_scope = false; }));
        QVERIFY(without([&](auto& s) { s.shapes = {good}; }));
        // The backend uses it exactly when the device has it and the option allows it.
        QCOMPARE(vk_->uses_coop_matmul(), vk_->device().coop_matmul);
        for (const auto& d : bonsai::list_vulkan_devices())
            if (d.type == "cpu") QVERIFY2(!d.coop_matmul, d.name.c_str());  // lavapipe: fallback matmul.comp
        if (vk_->device().type == "cpu") QVERIFY(!vk_->uses_coop_matmul());
        VulkanBackend::Options o = VulkanBackend::Options::from_environment();
        o.coop_matmul = false;
        VulkanBackend off(o);
        QVERIFY(!off.uses_coop_matmul());
    }

    void deviceSelection() {
        const auto devices = bonsai::list_vulkan_devices();
        QVERIFY(!devices.empty());
        // The default pick has the best device type among suitable devices.
        auto rank = [](const std::string& t) {
            return t == "discrete" ? 4 : t == "integrated" ? 3 : t == "virtual" ? 2 : t == "cpu" ? 1 : 0;
        };
        int best = -1;
        for (const auto& d : devices)
            if (d.suitable) best = std::max(best, rank(d.type));
        QVERIFY(vk_->device().suitable);
        QCOMPARE(rank(vk_->device().type), best);

        VulkanBackend::Options o;
        o.validation = true;
        for (const auto& d : devices) {
            if (!d.suitable) continue;
            o.device = std::to_string(d.index);
            VulkanBackend by_index(o);
            QCOMPARE(by_index.device().index, d.index);
            // Name substring, in another case than the driver reports it.
            std::string sub = d.name.substr(0, std::min<size_t>(d.name.size(), 6));
            for (char& c : sub) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            o.device = sub;
            VulkanBackend by_name(o);
            QVERIFY(QString::fromStdString(by_name.device().name).toUpper().contains(QString::fromStdString(sub)));
            QCOMPARE(by_index.validation_messages() + by_name.validation_messages(), uint64_t(0));
        }
        o.device = "no such device anywhere";
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, VulkanBackend{o});
        o.device = std::to_string(devices.size() + 5);
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, VulkanBackend{o});
    }

    // With the loader pointed at no driver, listing returns nothing and opening throws bonsai::Error
    // (the caller's cue to fall back to the CPU backend) instead of crashing.
    void noDriverGivesError() {
        const QByteArray old_icd = qgetenv("VK_ICD_FILENAMES"), old_drv = qgetenv("VK_DRIVER_FILES");
        qputenv("VK_ICD_FILENAMES", "/nonexistent/bonsai_icd.json");
        qputenv("VK_DRIVER_FILES", "/nonexistent/bonsai_icd.json");
        const auto devices = bonsai::list_vulkan_devices();
        QString message;
        try {
            VulkanBackend::Options o;
            VulkanBackend none(o);
        } catch (const bonsai::Error& e) {
            message = e.what();
        }
        auto restore = [](const char* name, const QByteArray& v) {
            if (v.isNull()) qunsetenv(name);
            else qputenv(name, v);
        };
        restore("VK_ICD_FILENAMES", old_icd);
        restore("VK_DRIVER_FILES", old_drv);
        QVERIFY(devices.empty());
        QVERIFY2(message.contains("Vulkan"), qPrintable(message));
        qInfo("without a driver: %s", qPrintable(message));
        QVERIFY(!bonsai::list_vulkan_devices().empty());  // the real driver is back
    }

    // copy(): ordered after the shader that wrote its source and readable by the host after the
    // submit (synchronization validation reports a missing barrier even on lavapipe), and by a later
    // shader; bad ranges are errors.
    void copyBetweenBuffers() {
        const uint32_t n = 1000;
        std::vector<float> x = random_floats(n, -2.0f, 2.0f);
        VulkanBuffer xb = host_floats(x, 0);
        VulkanBuffer dev = vk_->create_buffer(n * 4 + 12, VulkanMemory::DeviceLocal);
        VulkanBuffer host = host_floats(std::vector<float>(n + 5, 0.0f), 0);
        VulkanBuffer back = host_floats(std::vector<float>(n, 0.0f), 0);
        vk_->begin();
        vk_->scale(xb, {dev, 12}, n, 3.0f);
        vk_->copy({dev, 12}, {host, 20}, uint64_t(n) * 4);
        vk_->scale({host, 20}, back, n, 0.5f);
        vk_->submit_and_wait();
        const std::vector<float> got = read_floats(host, n, 5), got2 = read_floats(back, n, 0);
        for (uint32_t i = 0; i < n; ++i) {
            QCOMPARE(got[i], x[i] * 3.0f);
            QCOMPARE(got2[i], x[i] * 3.0f * 0.5f);
        }
        vk_->begin();
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->copy({dev, 16}, {host, 0}, uint64_t(n) * 4));  // past dev's end
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->copy({dev, 0}, {dev, 8}, 64));                  // overlap
        vk_->submit_and_wait();
    }

    // flush(): the ops before it run first (submitted early), the chain across command buffers stays
    // ordered, and flushes beyond the command buffers are ignored, not errors.
    void flushMidRecording() {
        const uint32_t n = 4096;
        std::vector<float> x = random_floats(n, -1.0f, 1.0f);
        VulkanBuffer a = host_floats(x, 0);
        VulkanBuffer d = vk_->create_buffer(n * 4, VulkanMemory::DeviceLocal);
        VulkanBuffer out = host_floats(std::vector<float>(n, 0.0f), 0);
        const uint64_t before = vk_->stats().flushes;
        vk_->begin();
        vk_->scale(a, d, n, 2.0f);
        for (int i = 0; i < 40; ++i) {  // 40 dependent steps, a flush after each
            vk_->scale(d, d, n, i % 2 ? 0.5f : 2.0f);
            vk_->flush();
        }
        vk_->scale(d, out, n, 3.0f);
        vk_->submit_and_wait();
        QCOMPARE(vk_->stats().flushes - before, uint64_t(15));  // 16 command buffers per recording
        const std::vector<float> got = read_floats(out, n);
        for (uint32_t i = 0; i < n; ++i) QCOMPARE(got[i], x[i] * 6.0f);
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->flush());  // outside a recording
    }

    void uploadDownloadRoundTrip() {
        std::vector<uint8_t> bytes(1001);
        for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
        VulkanBuffer b = device_bytes(bytes, 3);
        std::vector<uint8_t> back(bytes.size());
        vk_->download(b, 3, back.data(), back.size());
        QVERIFY(back == bytes);
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->download(b, 5, back.data(), back.size()));
    }

    void matvec_data() {
        QTest::addColumn<TensorType>("type");
        QTest::addColumn<uint32_t>("ne0");
        QTest::addColumn<uint32_t>("rows");
        QTest::addColumn<bool>("accumulate");
        for (TensorType t : weight_types()) {
            const uint32_t blk = bonsai::tensor_type_traits(t).block_size;
            // The fused residual add (y += W.x), and for the word-decoding types (matvec_w.comp, x
            // staged in chunks of 4096) rows longer than one chunk with a partial last chunk.
            QTest::addRow("%s ne0=%u rows=21 accumulate", bonsai::tensor_type_name(t), 3 * blk) << t << 3 * blk << 21u << true;
            if (word_types().contains(t)) {
                const uint32_t longer = 4096 + 3 * blk;
                QTest::addRow("%s ne0=%u rows=19", bonsai::tensor_type_name(t), longer) << t << longer << 19u << false;
                QTest::addRow("%s ne0=8192 rows=17 accumulate", bonsai::tensor_type_name(t)) << t << 8192u << 17u << true;
            }
            // ne0: 1, 3 and 9 blocks (F32/F16: lengths that are not multiples of the workgroup);
            // rows: not multiples of the 4 rows a workgroup takes.
            // 16 blocks: Bonsai-1.7B-wide rows for Q1_0 (2048), several subgroup passes per row everywhere.
            std::vector<uint32_t> ne0s = blk == 1 ? std::vector<uint32_t>{37, 200, 1000} : std::vector<uint32_t>{blk, 3 * blk, 9 * blk, 16 * blk};
            for (uint32_t ne0 : ne0s)
                for (uint32_t rows : {1u, 37u, 130u})
                    QTest::addRow("%s ne0=%u rows=%u", bonsai::tensor_type_name(t), ne0, rows) << t << ne0 << rows << false;
        }
    }

    void matvec() {
        QFETCH(TensorType, type);
        QFETCH(uint32_t, ne0);
        QFETCH(uint32_t, rows);
        QFETCH(bool, accumulate);
        check_weight_op(type, ne0, rows, 0, false, accumulate);
    }

    // Split-K of the word-decoding matvec (set_matvec_split_target): no split, a few slices, the most
    // slices the row allows (one 2048-element chunk each, last one shorter), with one or several row blocks, and two
    // accumulating dispatches in one submit (the per-row-block counters are reset by the shader).
    void matvecSplitK_data() {
        QTest::addColumn<TensorType>("type");
        QTest::addColumn<uint32_t>("ne0");
        QTest::addColumn<uint32_t>("rows");
        QTest::addColumn<uint32_t>("target");
        QTest::addColumn<int>("repeat");
        for (TensorType t : word_types()) {
            const uint32_t blk = bonsai::tensor_type_traits(t).block_size;
            const char* n = bonsai::tensor_type_name(t);
            const uint32_t ne0 = 3 * 2048 + 5 * blk;  // 4 chunks of x, the last one partial
            for (uint32_t target : {0u, 3u, 9u, 1000000u})
                for (uint32_t rows : {1u, 33u, 70u})
                    QTest::addRow("%s ne0=%u rows=%u target=%u", n, ne0, rows, target) << t << ne0 << rows << target << 1;
            QTest::addRow("%s ne0=%u rows=45 target=1000000 twice", n, ne0) << t << ne0 << 45u << 1000000u << 2;
            QTest::addRow("%s ne0=%u rows=3 target=5 twice", n, 3 * 2048u) << t << 3 * 2048u << 3u << 5u << 2;
            QTest::addRow("%s ne0=%u rows=40 target=1000000", n, 12288u) << t << 12288u << 40u << 1000000u << 1;
        }
    }

    void matvecSplitK() {
        QFETCH(TensorType, type);
        QFETCH(uint32_t, ne0);
        QFETCH(uint32_t, rows);
        QFETCH(uint32_t, target);
        QFETCH(int, repeat);
        vk_->set_matvec_split_target(target);
        const uint64_t splits_before = vk_->stats().split_matvecs;
        check_weight_op(type, ne0, rows, 0, false, repeat > 1, repeat);
        vk_->set_matvec_split_target(VulkanBackend::Options{}.matvec_split_target);
        // The split path ran exactly when the target asks for more workgroups than the row blocks.
        const bool split = target > (rows + 31) / 32;
        QCOMPARE(vk_->stats().split_matvecs - splits_before, split ? uint64_t(repeat) : uint64_t(0));
    }

    void matvecFused_data() {
        QTest::addColumn<TensorType>("type");
        QTest::addColumn<uint32_t>("ne0");
        QTest::addColumn<uint32_t>("rows");
        QTest::addColumn<bool>("norm");
        QTest::addColumn<bool>("swiglu");
        QTest::addColumn<bool>("accumulate");
        for (TensorType t : word_types()) {
            if (!VulkanBackend::supports_fused_matvec(t)) continue;  // I2_S (matvecFusedRefused)
            const uint32_t blk = bonsai::tensor_type_traits(t).block_size;
            const char* n = bonsai::tensor_type_name(t);
            QTest::addRow("%s norm", n) << t << 3 * blk << 37u << true << false << false;
            QTest::addRow("%s norm long accumulate", n) << t << 4096 + 2 * blk << 21u << true << false << true;
            QTest::addRow("%s swiglu accumulate", n) << t << 5 * blk << 19u << false << true << true;
            QTest::addRow("%s swiglu long", n) << t << 8192 + blk << 9u << false << true << false;
            // Many row blocks and long rows: split-K under the default target too.
            QTest::addRow("%s norm long many rows", n) << t << 3 * 2048 + 4 * blk << 100u << true << false << true;
        }
    }

    void matvecFused() {
        QFETCH(TensorType, type);
        QFETCH(uint32_t, ne0);
        QFETCH(uint32_t, rows);
        QFETCH(bool, norm);
        QFETCH(bool, swiglu);
        QFETCH(bool, accumulate);
        check_fused(type, ne0, rows, norm, swiglu, accumulate, 5);
    }

    // I2_S takes no fused input (its projections multiply int8-quantized inputs): refused, not ignored.
    void matvecFusedRefused() {
        QVERIFY(!VulkanBackend::supports_fused_matvec(TensorType::I2_S));
        std::vector<uint8_t> w = random_weights(TensorType::I2_S, 256, 4);
        VulkanBuffer wb = device_bytes(w, 0), xb = host_floats(std::vector<float>(512, 1.0f)), yb = host_floats(std::vector<float>(4));
        bonsai::VulkanMatvecInput in;
        in.swiglu = true;
        vk_->begin();
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::I2_S, wb, 256, 4, xb, yb, in));
        vk_->matvec_fused(TensorType::I2_S, wb, 256, 4, xb, yb, bonsai::VulkanMatvecInput{});  // no transform: fine
        vk_->submit_and_wait();
    }

    // The two Q1_0 / Q2_0 matvec shaders: the table variant (matvec_w.comp -DLUT) with 4 and 8 rows per
    // team and 1, 2, 4 passes per chunk, and the word one (lut 0; weights at an odd byte offset always
    // take it), each plain, accumulating, over several table chunks with a partial last one, split-K and
    // fused.
    void matvecTableVariants_data() {
        QTest::addColumn<TensorType>("type");
        QTest::addColumn<uint32_t>("lut");
        QTest::addColumn<uint32_t>("passes");
        add_case_columns();
        for (TensorType t : word_types())
        for (auto [lut, passes] : {std::pair{0u, 1u}, {4u, 1u}, {4u, 2u}, {4u, 4u}, {8u, 1u}, {8u, 4u}}) {
            const char* tn = bonsai::tensor_type_name(t);
            const uint32_t split = 1000000u, none = 0u;
            // 128 Q1_0 / PQ2_0, 64 Q2_0, 256 TQ2_0; I2_S: a table pass (two 128-weight blocks)
            const uint32_t b = t == TensorType::I2_S ? 256 : bonsai::tensor_type_traits(t).block_size;
            auto row = [&](const char* what, int w_off, uint32_t ne0, uint32_t rows, uint32_t target, int input, bool acc) {
                QTest::addRow("%s lut=%ux%u %s ne0=%u rows=%u", tn, lut, passes, what, ne0, rows)
                    << t << lut << passes << w_off << ne0 << rows << target << input << acc;
            };
            row("plain", 6, b, 1, none, 0, false);
            row("accumulate", 2, 3 * b, 37, none, 0, true);
            row("plain", 6, 2048, 130, none, 0, false);
            row("partial chunk", 4, 4096 + 3 * b, 19, none, 0, false);
            row("split accumulate", 6, 3 * 2048 + 5 * b, 70, split, 0, true);
            if (!VulkanBackend::supports_fused_matvec(t)) continue;
            row("norm accumulate", 6, 4096 + 2 * b, 21, none, 1, true);
            row("swiglu", 6, 8192 + b, 9, none, 2, false);
            row("norm split", 6, 3 * 2048 + 4 * b, 100, split, 1, false);
        }
        QTest::addRow("Q1_0 lut=4 odd offset ne0=2048 rows=40") << TensorType::Q1_0 << 4u << 1u << 7 << 2048u << 40u << 0u << 0 << false;
        // Automatic rows per team: 4 below 32M weights, 8 from there (8192 x 4096).
        const uint32_t a = VulkanBackend::k_matvec_lut_auto;
        QTest::addRow("Q2_0 lut=auto ne0=2048 rows=33") << TensorType::Q2_0 << a << 2u << 6 << 2048u << 33u << 0u << 0 << false;
        QTest::addRow("Q1_0 lut=auto norm ne0=8192 rows=4096 accumulate") << TensorType::Q1_0 << a << 2u << 6 << 8192u << 4096u << 0u << 1 << true;
        QTest::addRow("Q2_0 lut=8x4 odd offset swiglu ne0=640 rows=3") << TensorType::Q2_0 << 8u << 4u << 5 << 640u << 3u << 0u << 2 << true;
        QTest::addRow("TQ2_0 lut=4x2 odd offset ne0=768 rows=5") << TensorType::TQ2_0 << 4u << 2u << 3 << 768u << 5u << 0u << 0 << false;
        QTest::addRow("PQ2_0 lut=4x1 odd offset norm ne0=896 rows=11") << TensorType::PQ2_0 << 4u << 1u << 5 << 896u << 11u << 0u << 1 << false;
        QTest::addRow("I2_S lut=4x2 rows of half a pass ne0=640 rows=9") << TensorType::I2_S << 4u << 2u << 6 << 640u << 9u << 0u << 0 << false;
    }

    void matvecTableVariants() {
        QFETCH(TensorType, type);
        QFETCH(uint32_t, lut);
        QFETCH(uint32_t, passes);
        QFETCH(int, w_off);
        QFETCH(uint32_t, ne0);
        QFETCH(uint32_t, rows);
        QFETCH(uint32_t, target);
        QFETCH(int, input);
        QFETCH(bool, accumulate);
        vk_->set_matvec_lut(lut, passes);
        vk_->set_matvec_split_target(target);
        const bonsai::VulkanStats before = vk_->stats();
        run_case(type, w_off, ne0, rows, input, accumulate, false);
        const bonsai::VulkanStats after = vk_->stats();
        vk_->set_matvec_lut(VulkanBackend::Options{}.matvec_lut_rows, VulkanBackend::Options{}.matvec_lut_passes);
        vk_->set_matvec_split_target(VulkanBackend::Options{}.matvec_split_target);
        // The table shader ran exactly when asked for and the weights are 2-aligned; split-K exactly
        // when the target exceeds the row blocks (8 teams x lut or 4 rows each).
        const bool uses_lut = lut != 0 && w_off % 2 == 0 && (type != TensorType::I2_S || ne0 % 256 == 0);
        QCOMPARE(after.lut_matvecs - before.lut_matvecs, uint64_t(uses_lut ? 1 : 0));
        const uint32_t team_rows = lut == VulkanBackend::k_matvec_lut_auto ? (uint64_t(ne0) * rows >= (32u << 20) ? 8 : 4) : lut;
        const uint32_t per_wg = 8 * (uses_lut ? team_rows : 4);
        QCOMPARE(after.split_matvecs - before.split_matvecs, uint64_t(target > (rows + per_wg - 1) / per_wg ? 1 : 0));
    }

    // The integer-dot-product matvec (matvec_dp.comp; on lavapipe the feature exists but is not
    // "accelerated", so only this test turns it on): every type plain, accumulating, over several x
    // chunks with a partial last one, split-K, with fused inputs, against float64 on x rounded to int8
    // the way the shader rounds it. An odd weight offset takes the other shaders (full-precision x).
    void matvecIntDot_data() {
        QTest::addColumn<TensorType>("type");
        add_case_columns();
        for (TensorType t : {TensorType::Q1_0, TensorType::Q2_0, TensorType::PQ2_0, TensorType::PTQ1_0, TensorType::TQ1_0,
                             TensorType::TQ2_0, TensorType::Q8_0, TensorType::Q4_0, TensorType::I2_S}) {
            const char* tn = bonsai::tensor_type_name(t);
            const uint32_t b = bonsai::tensor_type_traits(t).block_size, split = 1000000u, none = 0u;
            auto row = [&](const char* what, int w_off, uint32_t ne0, uint32_t rows, uint32_t target, int input, bool acc) {
                if (t == TensorType::I2_S && input != 0) return;  // (no fused inputs: matvecFusedRefused)
                QTest::addRow("%s %s ne0=%u rows=%u", tn, what, ne0, rows) << t << w_off << ne0 << rows << target << input << acc;
            };
            row("plain", 6, b, 1, none, 0, false);
            row("accumulate", 2, 3 * b, 37, none, 0, true);
            row("plain", 0, 2048, 130, none, 0, false);
            row("partial chunk", 4, 4096 + 3 * b, 19, none, 0, false);
            row("split accumulate", 6, 3 * 4096 + 5 * b, 70, split, 0, true);
            row("norm accumulate", 6, 4096 + 2 * b, 21, none, 1, true);
            row("swiglu", 6, 8192 + b, 9, none, 2, false);
            row("norm split", 6, 3 * 4096 + 4 * b, 100, split, 1, false);
            row("odd offset", 7, 5 * b, 33, none, 0, false);
        }
        // Rows per team: 8 with >= 16384 rows, 4 from 16M weights, else 2 (the rows above).
        QTest::addRow("TQ2_0 many rows ne0=512 rows=16390") << TensorType::TQ2_0 << 0 << 512u << 16390u << 0u << 0 << true;
        QTest::addRow("Q4_0 norm many rows ne0=96 rows=16411") << TensorType::Q4_0 << 2 << 96u << 16411u << 0u << 1 << false;
        QTest::addRow("Q2_0 4 rows per team ne0=4160 rows=4099") << TensorType::Q2_0 << 0 << 4160u << 4099u << 0u << 0 << false;
        QTest::addRow("Q8_0 4 rows per team swiglu ne0=4096 rows=4129") << TensorType::Q8_0 << 0 << 4096u << 4129u << 0u << 2 << true;
        // Q1_0 / PQ2_0 / TQ2_0 rows narrower than 4096 take half units (half blocks; TQ2_0: quarter
        // blocks; the rows above up to 2048 wide: 2 rows per team); with 4 and 8 rows per team here.
        QTest::addRow("Q1_0 half blocks norm ne0=2048 rows=8200") << TensorType::Q1_0 << 0 << 2048u << 8200u << 0u << 1 << false;
        QTest::addRow("PQ2_0 half blocks ne0=384 rows=16400") << TensorType::PQ2_0 << 2 << 384u << 16400u << 0u << 0 << true;
        QTest::addRow("TQ2_0 quarter blocks swiglu ne0=2048 rows=8200") << TensorType::TQ2_0 << 2 << 2048u << 8200u << 0u << 2 << false;
        QTest::addRow("TQ2_0 quarter blocks ne0=768 rows=16390") << TensorType::TQ2_0 << 0 << 768u << 16390u << 0u << 0 << true;
    }

    void matvecIntDot() {
        QFETCH(TensorType, type);
        QFETCH(int, w_off);
        QFETCH(uint32_t, ne0);
        QFETCH(uint32_t, rows);
        QFETCH(uint32_t, target);
        QFETCH(int, input);
        QFETCH(bool, accumulate);
        if (!vk_->device().int_dot) QSKIP("the device has no integer dot products");
        const bool was = vk_->uses_matvec_int_dot();
        vk_->set_matvec_int_dot(true);
        vk_->set_matvec_split_target(target);
        const bonsai::VulkanStats before = vk_->stats();
        const bool used = w_off % 2 == 0;
        run_case(type, w_off, ne0, rows, input, accumulate, used);
        const bonsai::VulkanStats after = vk_->stats();
        vk_->set_matvec_int_dot(was);
        vk_->set_matvec_split_target(VulkanBackend::Options{}.matvec_split_target);
        QCOMPARE(after.int_dot_matvecs - before.int_dot_matvecs, uint64_t(used ? 1 : 0));
        const uint32_t per_wg = 8 * VulkanBackend::matvec_dp_rows_per_team(ne0, rows);
        QCOMPARE(after.split_matvecs - before.split_matvecs,
                 uint64_t(used && target > (rows + per_wg - 1) / per_wg && ne0 >= 3 * 4096 ? 1 : 0));
    }

    // A matvec that rounds its output for the next one (VulkanMatvecRounding, matvec_dp.comp): y = r +
    // W1.x1 as usual, plus the int8 form of y * g; the next matvec reads that instead of y and applies
    // the norm's scale from the producer's sums of squares. Against float64: z = W2 . round(rms_norm(y)
    // * g), the rounding per 32 as int8_blocks (two steps of slack per row, as check_fused). Producer
    // and consumer of one type or of types that stage x in different orders; a split-K producer (its
    // last workgroup per row block rounds); the widest consumer row (4096).
    void matvecRounded_data() {
        QTest::addColumn<TensorType>("producer");
        QTest::addColumn<TensorType>("consumer");
        QTest::addColumn<uint32_t>("k1");  // the producer's row width
        QTest::addColumn<uint32_t>("e");   // its rows = the consumer's row width
        QTest::addColumn<uint32_t>("rows");  // the consumer's rows
        QTest::addColumn<uint32_t>("target");  // split-K target
        for (TensorType t : {TensorType::Q1_0, TensorType::Q2_0, TensorType::PQ2_0, TensorType::PTQ1_0, TensorType::TQ1_0,
                             TensorType::TQ2_0, TensorType::Q8_0, TensorType::Q4_0})
            QTest::addRow("%s e=256", bonsai::tensor_type_name(t)) << t << t << 512u << 256u << 37u << 0u;
        QTest::addRow("PTQ1_0 -> Q1_0 e=384") << TensorType::PTQ1_0 << TensorType::Q1_0 << 256u << 384u << 9u << 0u;
        QTest::addRow("TQ2_0 -> Q2_0 e=192") << TensorType::TQ2_0 << TensorType::Q2_0 << 768u << 192u << 20u << 0u;
        QTest::addRow("Q2_0 -> Q1_0 e=384") << TensorType::Q2_0 << TensorType::Q1_0 << 256u << 384u << 9u << 0u;
        QTest::addRow("Q8_0 -> TQ2_0 e=512") << TensorType::Q8_0 << TensorType::TQ2_0 << 160u << 512u << 33u << 0u;
        QTest::addRow("Q2_0 split producer e=4096") << TensorType::Q2_0 << TensorType::Q2_0 << 3u * 4096u + 512u << 4096u
                                                    << 40u << 1000000u;
        QTest::addRow("TQ2_0 split producer e=4096") << TensorType::TQ2_0 << TensorType::TQ2_0 << 3u * 4096u << 4096u
                                                     << 70u << 1000000u;
    }

    void matvecRounded() {
        QFETCH(TensorType, producer);
        QFETCH(TensorType, consumer);
        QFETCH(uint32_t, k1);
        QFETCH(uint32_t, e);
        QFETCH(uint32_t, rows);
        QFETCH(uint32_t, target);
        if (!vk_->device().int_dot) QSKIP("the device has no integer dot products");
        const IntDotScope dp(*vk_, target);
        const float eps = 1e-5f;
        std::vector<uint8_t> w1 = random_weights(producer, k1, e), w2 = random_weights(consumer, e, rows);
        std::vector<float> w1f = reference_rows(producer, w1, k1, e), w2f = reference_rows(consumer, w2, e, rows);
        std::vector<float> x1 = random_floats(k1, -1.0f, 1.0f), r = random_floats(e, -2.0f, 2.0f);
        std::vector<float> g = random_floats(e, 0.5f, 1.5f);
        VulkanBuffer w1b = device_bytes(w1, 2), w2b = device_bytes(w2, 4);
        VulkanBuffer x1b = host_floats(x1, 1), yb = host_floats(r, 3), gb = host_floats(g, 5);
        VulkanBuffer zb = host_floats(std::vector<float>(rows, -7.0f), 2);
        const uint64_t q_bytes = VulkanBackend::rounded_bytes(e);
        VulkanBuffer qb = vk_->create_buffer(q_bytes + 16, bonsai::VulkanMemory::DeviceLocal);
        QCOMPARE(q_bytes, uint64_t(e) * 3 / 2);
        QVERIFY(vk_->rounding_ok(producer, {w1b, 2}, k1, e, consumer, {w2b, 4}, rows));
        bonsai::VulkanMatvecRounding round;
        round.out = {qb, 16};
        round.norm = {gb, 5 * 4};
        round.consumer = consumer;
        bonsai::VulkanMatvecInput in;
        in.rms_norm = true;
        in.norm = {gb, 5 * 4};
        in.eps = eps;
        in.rounded = true;
        in.rounded_in = {qb, 16};
        const bonsai::VulkanStats before = vk_->stats();
        vk_->begin();
        vk_->matvec_fused(producer, {w1b, 2}, k1, e, {x1b, 4}, {yb, 3 * 4}, bonsai::VulkanMatvecInput{}, true, &round);
        vk_->matvec_fused(consumer, {w2b, 4}, e, rows, {yb, 3 * 4}, {zb, 2 * 4}, in);
        vk_->submit_and_wait();
        const bonsai::VulkanStats after = vk_->stats();
        QCOMPARE(after.rounded_matvecs - before.rounded_matvecs, uint64_t(2));
        QCOMPARE(after.split_matvecs - before.split_matvecs, uint64_t(target ? 1 : 0));

        // The producer: y = r + W1 . int8(x1), as every integer-dot-product matvec.
        std::vector<double> step1, y, ymag;
        const std::vector<double> x1q = int8_blocks(std::vector<double>(x1.begin(), x1.end()), &step1);
        int8_reference(w1f, k1, e, x1q, step1, 2e-5, &y, &ymag);
        for (uint32_t i = 0; i < e; ++i) {
            y[i] += r[i];
            ymag[i] += std::fabs(r[i]);
        }
        QString why;
        const std::vector<float> yv = read_floats(yb, e, 3);
        QVERIFY2(close_all(yv, y, ymag, 2e-5, 1e-5, &why), qPrintable("producer: " + why));
        // The consumer, from the producer's y as the device computed it (so that only the rounding path is
        // under test): z = W2 . int8(y * inv * g).
        double ss = 0;
        for (float v : yv) ss += double(v) * v;
        const double inv = 1.0 / std::sqrt(ss / e + eps);
        std::vector<double> xin(e), step;
        for (uint32_t i = 0; i < e; ++i) xin[i] = double(yv[i]) * inv * g[i];
        xin = int8_blocks(xin, &step);
        std::vector<double> want, mag;
        int8_reference(w2f, e, rows, xin, step, 2e-5, &want, &mag);
        QVERIFY2(close_all(read_floats(zb, rows, 2), want, mag, 2e-5, 1e-5, &why), qPrintable("consumer: " + why));
    }

    void matvecRoundedChain_data() {
        QTest::addColumn<TensorType>("type");
        QTest::addColumn<TensorType>("down_type");
        QTest::addColumn<uint32_t>("e");   // the residual stream's width
        QTest::addColumn<uint32_t>("f");   // the FFN's width (gate|up rows 2f, the down projection's row width)
        QTest::addColumn<uint32_t>("target");  // split-K target
        QTest::addRow("Q2_0 e=256 f=192") << TensorType::Q2_0 << TensorType::Q2_0 << 256u << 192u << 0u;
        QTest::addRow("TQ2_0 -> Q1_0 down e=256 f=384") << TensorType::TQ2_0 << TensorType::Q1_0 << 256u << 384u << 0u;
        QTest::addRow("Q1_0 -> PQ2_0 down e=512 f=1024") << TensorType::Q1_0 << TensorType::PQ2_0 << 512u << 1024u << 0u;
        // 8 rows per team in gate|up (two blocks per workgroup) and a split-K down projection over 3 chunks.
        QTest::addRow("Q2_0 e=256 f=12288 split down") << TensorType::Q2_0 << TensorType::Q2_0 << 256u << 12288u << 1000000u;
    }

    // A decode step's FFN with every input rounded by its producer: an output projection (plain input,
    // residual add) rounds for gate|up (ffn_norm); gate|up ("io") reads that and rounds silu(gate) * up
    // for the down projection; the down projection ("io", no norm, possibly split-K over several chunks)
    // adds onto the residual and rounds it for the next q|k|v (attn_norm), which reads it. Each stage
    // against float64 from the device's previous floats.
    void matvecRoundedChain() {
        QFETCH(TensorType, type);
        QFETCH(TensorType, down_type);
        QFETCH(uint32_t, e);
        QFETCH(uint32_t, f);
        QFETCH(uint32_t, target);
        if (!vk_->device().int_dot) QSKIP("the device has no integer dot products");
        const IntDotScope dp(*vk_, target);
        const float eps = 1e-5f;
        const uint32_t k1 = 512, nq = 96;  // the output projection's row width; the last consumer's rows
        std::vector<uint8_t> wo = random_weights(type, k1, e), wgu = random_weights(type, e, 2 * f),
                             wd = random_weights(down_type, f, e), wq = random_weights(type, e, nq);
        const std::vector<float> wof = reference_rows(type, wo, k1, e), wguf = reference_rows(type, wgu, e, 2 * f),
                                 wdf = reference_rows(down_type, wd, f, e), wqf = reference_rows(type, wq, e, nq);
        const std::vector<float> x1 = random_floats(k1, -1.0f, 1.0f), r = random_floats(e, -2.0f, 2.0f);
        const std::vector<float> g1 = random_floats(e, 0.5f, 1.5f), g2 = random_floats(e, 0.5f, 1.5f);
        VulkanBuffer wob = device_bytes(wo, 2), wgub = device_bytes(wgu, 0), wdb = device_bytes(wd, 4), wqb = device_bytes(wq, 0);
        VulkanBuffer xb = host_floats(x1), rb = host_floats(r, 1), gb1 = host_floats(g1), gb2 = host_floats(g2);
        VulkanBuffer gub = host_floats(std::vector<float>(2 * f, -3.0f)), zb = host_floats(std::vector<float>(nq, -7.0f));
        // The rounded vectors: the residual's at 0 (reused, as in a decode step), the SwiGLU output's after it.
        const uint64_t ra = VulkanBackend::rounded_bytes(e);
        VulkanBuffer qb = vk_->create_buffer(ra + VulkanBackend::rounded_bytes(f), bonsai::VulkanMemory::DeviceLocal);
        QVERIFY(vk_->rounded_output_ok(type, {wgub, 0}, e, 2 * f));
        QVERIFY(vk_->rounded_input_ok(down_type, {wdb, 4}, f, e, false));
        bonsai::VulkanMatvecRounding to_gu, to_down, to_q;
        to_gu.out = to_q.out = {qb, 0};
        to_gu.norm = gb1;
        to_gu.consumer = type;
        to_down.out = {qb, ra};
        to_down.consumer = down_type;
        to_down.swiglu = true;
        to_q.norm = gb2;
        to_q.consumer = type;
        bonsai::VulkanMatvecInput in_gu, in_down, in_q;
        in_gu.rms_norm = in_q.rms_norm = true;
        in_gu.eps = in_q.eps = eps;
        in_gu.rounded = in_down.rounded = in_q.rounded = true;
        in_gu.rounded_in = in_q.rounded_in = {qb, 0};
        in_down.rounded_in = {qb, ra};
        in_down.swiglu = true;  // (applied by the producer)
        in_q.rows_per_team = 8;  // forced (else 2 for this shape)
        std::vector<float> y1, gu, y2;
        const bonsai::VulkanStats before = vk_->stats();
        // Stage by stage, so that each reference starts from the device's own floats.
        vk_->begin();
        vk_->matvec_fused(type, {wob, 2}, k1, e, xb, {rb, 4}, bonsai::VulkanMatvecInput{}, true, &to_gu);
        vk_->submit_and_wait();
        y1 = read_floats(rb, e, 1);
        vk_->begin();
        vk_->matvec_fused(type, {wgub, 0}, e, 2 * f, {rb, 4}, gub, in_gu, false, &to_down);
        vk_->submit_and_wait();
        gu = read_floats(gub, 2 * f);
        vk_->begin();
        vk_->matvec_fused(down_type, {wdb, 4}, f, e, gub, {rb, 4}, in_down, true, &to_q);
        vk_->submit_and_wait();
        y2 = read_floats(rb, e, 1);
        vk_->begin();
        vk_->matvec_fused(type, {wqb, 0}, e, nq, {rb, 4}, zb, in_q);
        vk_->submit_and_wait();
        const bonsai::VulkanStats after = vk_->stats();
        QCOMPARE(after.rounded_matvecs - before.rounded_matvecs, uint64_t(4));
        QCOMPARE(after.split_matvecs - before.split_matvecs, uint64_t(target ? 1 : 0));

        QString why;
        auto normed = [&](const std::vector<float>& y, const std::vector<float>& g) {
            double ss = 0;
            for (float v : y) ss += double(v) * v;
            const double inv = 1.0 / std::sqrt(ss / y.size() + eps);
            std::vector<double> xin(y.size());
            for (size_t i = 0; i < y.size(); ++i) xin[i] = double(y[i]) * inv * g[i];
            return xin;
        };
        // gate|up = Wgu . int8(y1 * inv * g1).
        std::vector<double> step, want, mag;
        std::vector<double> xin = int8_blocks(normed(y1, g1), &step);
        int8_reference(wguf, e, 2 * f, xin, step, 2e-5, &want, &mag);
        QVERIFY2(close_all(gu, want, mag, 2e-5, 1e-5, &why), qPrintable("gate|up: " + why));
        // y2 = y1 + Wd . int8(silu(gate) * up).
        std::vector<double> sw(f);
        for (uint32_t i = 0; i < f; ++i) sw[i] = double(gu[i]) / (1.0 + std::exp(-double(gu[i]))) * gu[f + i];
        xin = int8_blocks(sw, &step);
        int8_reference(wdf, f, e, xin, step, 2e-5, &want, &mag);
        for (uint32_t i = 0; i < e; ++i) {
            want[i] += y1[i];
            mag[i] += std::fabs(y1[i]);
        }
        QVERIFY2(close_all(y2, want, mag, 2e-5, 1e-5, &why), qPrintable("down: " + why));
        // z = Wq . int8(y2 * inv * g2).
        xin = int8_blocks(normed(y2, g2), &step);
        int8_reference(wqf, e, nq, xin, step, 2e-5, &want, &mag);
        QVERIFY2(close_all(read_floats(zb, nq), want, mag, 2e-5, 1e-5, &why), qPrintable("q|k|v: " + why));
    }

    // What a rounded input or output cannot be: refused with an error, nothing recorded.
    void matvecRoundedRefused() {
        if (!vk_->device().int_dot) QSKIP("the device has no integer dot products");
        const bool was = vk_->uses_matvec_int_dot();
        vk_->set_matvec_int_dot(true);
        VulkanBuffer buf = vk_->create_buffer(1 << 20, bonsai::VulkanMemory::DeviceLocal);
        const bonsai::VulkanRef ref{buf, 0};
        QVERIFY(!vk_->rounding_ok(TensorType::I2_S, ref, 256, 256, TensorType::Q2_0, ref, 64));   // I2_S rounds per row
        QVERIFY(!vk_->rounding_ok(TensorType::Q2_0, ref, 256, 256, TensorType::I2_S, ref, 64));
        QVERIFY(!vk_->rounding_ok(TensorType::F16, ref, 256, 256, TensorType::Q2_0, ref, 64));    // no integer dot product
        QVERIFY(!vk_->rounding_ok(TensorType::Q2_0, ref, 256, 100, TensorType::Q2_0, ref, 64));   // not whole blocks of 32
        QVERIFY(!vk_->rounding_ok(TensorType::Q2_0, ref, 256, 8192, TensorType::Q2_0, ref, 64));  // more than one chunk
        QVERIFY(!vk_->rounding_ok(TensorType::Q2_0, {buf, 1}, 256, 256, TensorType::Q2_0, ref, 64));  // odd offset
        bonsai::VulkanMatvecRounding round;
        round.out = ref;
        round.norm = ref;
        round.consumer = TensorType::Q2_0;
        bonsai::VulkanMatvecInput in;
        in.rounded = true;
        in.rounded_in = ref;
        VulkanBuffer other = vk_->create_buffer(1 << 16, bonsai::VulkanMemory::DeviceLocal);
        vk_->begin();
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 200, 64, ref, ref, in));  // not whole blocks
        in.rms_norm = true;  // a norm needs the whole row in one chunk
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 8192, 64, ref, ref, in));
        QVERIFY(!vk_->rounded_input_ok(TensorType::Q2_0, ref, 8192, 64, true));
        QVERIFY(vk_->rounded_input_ok(TensorType::Q2_0, ref, 8192, 64, false));
        in.rms_norm = false;
        round.out = {other, 0};  // a rounded input and output in different buffers
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 256, 64, ref, ref, in, false, &round));
        round.out = ref;
        round.swiglu = true;  // SwiGLU rounding: a rounded input, rows a multiple of 64, no accumulation
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 256, 64, ref, ref, {}, false, &round));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 256, 96, ref, ref, in, false, &round));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 256, 64, ref, ref, in, true, &round));
        round.swiglu = false;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 256, 100, ref, ref, {}, false, &round));
        bonsai::VulkanMatvecInput odd;
        odd.rows_per_team = 3;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 256, 64, ref, ref, odd));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::F16, ref, 256, 64, ref, ref, {}, false, &round));
        round.consumer = TensorType::I2_S;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q2_0, ref, 256, 64, ref, ref, {}, false, &round));
        vk_->submit_and_wait();
        vk_->set_matvec_int_dot(was);
    }

    // Which devices get integer dot products by default: those whose driver calls them accelerated
    // (Options::int_dot 2); 0 turns them off, 1 on wherever they exist; turning them on without them throws.
    void intDotSelection() {
        QCOMPARE(VulkanBackend::matvec_dp_rows_per_team(2048, 2048), 2u);
        QCOMPARE(VulkanBackend::matvec_dp_rows_per_team(4096, 4096), 4u);
        QCOMPARE(VulkanBackend::matvec_dp_rows_per_team(4096, 24576), 8u);
        QCOMPARE(VulkanBackend::matvec_dp_rows_per_team(64, 16384), 8u);
        // By default Q1_0 takes integer dot products only on 4096 x 4096 and larger (the 8B shapes).
        QVERIFY(VulkanBackend::matvec_dp_auto(TensorType::Q1_0, 4096, 4096));
        QVERIFY(VulkanBackend::matvec_dp_auto(TensorType::Q1_0, 12288, 4096));
        QVERIFY(!VulkanBackend::matvec_dp_auto(TensorType::Q1_0, 2048, 151936));
        QVERIFY(!VulkanBackend::matvec_dp_auto(TensorType::Q1_0, 6144, 2048));
        QVERIFY(VulkanBackend::matvec_dp_auto(TensorType::Q2_0, 2048, 2048));
        QCOMPARE(vk_->uses_matvec_int_dot(), vk_->device().int_dot_fast);
        if (vk_->device().type == "cpu") QVERIFY(!vk_->uses_matvec_int_dot());  // lavapipe: not accelerated
        VulkanBackend::Options o = VulkanBackend::Options::from_environment();
        o.int_dot = 1;
        {
            VulkanBackend on(o);
            QCOMPARE(on.uses_matvec_int_dot(), on.device().int_dot);
            // Input transforms: the low-bit types always; Q8_0 / Q4_0 with integer dot products at even
            // offsets; I2_S never.
            VulkanBuffer b = on.create_buffer(64, VulkanMemory::DeviceLocal);
            const bool dp = on.uses_matvec_int_dot();
            QVERIFY(on.fused_matvec_ok(TensorType::TQ2_0, {b, 0}));
            QCOMPARE(on.fused_matvec_ok(TensorType::Q8_0, {b, 2}), dp);
            QCOMPARE(on.fused_matvec_ok(TensorType::Q4_0, {b, 0}), dp);
            QVERIFY(!on.fused_matvec_ok(TensorType::Q8_0, {b, 3}));
            QVERIFY(!on.fused_matvec_ok(TensorType::I2_S, {b, 0}));
            QVERIFY(!on.fused_matvec_ok(TensorType::F16, {b, 0}));
            on.set_matvec_int_dot(false);
            QVERIFY(!on.uses_matvec_int_dot());
            QVERIFY(!on.fused_matvec_ok(TensorType::Q8_0, {b, 0}));
        }
        o.int_dot = 0;
        VulkanBackend off(o);
        QVERIFY(!off.uses_matvec_int_dot());
        if (!off.device().int_dot) QVERIFY_THROWS_EXCEPTION(bonsai::Error, off.set_matvec_int_dot(true));
    }

    void matvecLutChecked() {
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->set_matvec_lut(3, 1));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->set_matvec_lut(4, 3));
    }

    void matmul_data() {
        QTest::addColumn<TensorType>("type");
        QTest::addColumn<uint32_t>("ne0");
        QTest::addColumn<uint32_t>("rows");
        QTest::addColumn<uint32_t>("ncols");
        for (TensorType t : weight_types()) {
            const uint32_t blk = bonsai::tensor_type_traits(t).block_size;
            const uint32_t ne0a = blk == 1 ? 45 : blk, ne0b = blk == 1 ? 300 : 3 * blk;
            QTest::addRow("%s ne0=%u rows=33 cols=1", bonsai::tensor_type_name(t), ne0a) << t << ne0a << 33u << 1u;
            QTest::addRow("%s ne0=%u rows=70 cols=7", bonsai::tensor_type_name(t), ne0b) << t << ne0b << 70u << 7u;
            QTest::addRow("%s ne0=%u rows=5 cols=40", bonsai::tensor_type_name(t), ne0a) << t << ne0a << 5u << 40u;
            // More than one 64 x 64 tile in both directions, neither a multiple of 64.
            QTest::addRow("%s ne0=%u rows=130 cols=67", bonsai::tensor_type_name(t), ne0b) << t << ne0b << 130u << 67u;
        }
    }

    void matmul() {
        QFETCH(TensorType, type);
        QFETCH(uint32_t, ne0);
        QFETCH(uint32_t, rows);
        QFETCH(uint32_t, ncols);
        check_weight_op(type, ne0, rows, ncols, true);
    }

    void rmsNorm() {
        const uint32_t n = 300, nrows = 5;
        const float eps = 1e-6f;
        std::vector<float> x = random_floats(n * nrows, -2.0f, 2.0f), w = random_floats(n, 0.5f, 1.5f);
        VulkanBuffer xb = host_floats(x), wb = host_floats(w, 2), yb = host_floats(std::vector<float>(n * nrows));
        vk_->begin();
        vk_->rms_norm(xb, {wb, 8}, yb, n, nrows, eps);
        vk_->submit_and_wait();
        std::vector<double> want(x.size()), mag(x.size());
        for (uint32_t r = 0; r < nrows; ++r) {
            double ss = 0;
            for (uint32_t i = 0; i < n; ++i) ss += double(x[r * n + i]) * x[r * n + i];
            double inv = 1.0 / std::sqrt(ss / n + eps);
            for (uint32_t i = 0; i < n; ++i) {
                want[r * n + i] = x[r * n + i] * inv * w[i];
                mag[r * n + i] = std::fabs(want[r * n + i]);
            }
        }
        QString why;
        QVERIFY2(close_all(read_floats(yb, x.size()), want, mag, 1e-4, 1e-6, &why), qPrintable(why));

        // With quantize_i8, in place: the normalized rows rounded per row to int8 steps (within one step
        // of the float64 rounding: a value at a half step may round either way in float).
        VulkanBuffer qb = host_floats(x);
        vk_->begin();
        vk_->rms_norm(qb, {wb, 8}, qb, n, nrows, eps, true);
        vk_->submit_and_wait();
        const std::vector<float> got = read_floats(qb, x.size());
        int off_grid = 0;
        for (uint32_t r = 0; r < nrows; ++r) {
            double g = 0;
            for (uint32_t i = 0; i < n; ++i) g = std::max(g, std::fabs(want[r * n + i]));
            const double step = g / 127.0;
            for (uint32_t i = 0; i < n; ++i) {
                const double q = std::nearbyint(want[r * n + i] / step) * step;
                QVERIFY2(std::fabs(got[r * n + i] - q) <= 1.0001 * step,
                         qPrintable(QString("row %1 [%2]: %3 vs %4").arg(r).arg(i).arg(got[r * n + i]).arg(q)));
                off_grid += std::fabs(got[r * n + i] - q) > 1e-4 * step;
            }
        }
        QVERIFY2(off_grid <= 2, qPrintable(QString("%1 values off the float64 rounding").arg(off_grid)));
    }

    // add_rms_norm (a prompt's residual add inside the next norm) and the f16 outputs that feed the
    // tensor-core matmul's f16-input tiles (session 15), against float64; the f16 values within the
    // half-step rounding of f16 (relative 2^-11) of the reference.
    void addRmsNormAndF16Outputs() {
        const uint32_t n = 300, nrows = 5;
        const float eps = 1e-6f;
        const std::vector<float> x = random_floats(n * nrows, -2.0f, 2.0f), t = random_floats(n * nrows, -1.0f, 1.0f),
                                 w = random_floats(n, 0.5f, 1.5f);
        VulkanBuffer wb = host_floats(w, 2);
        auto reference = [&](bool add, std::vector<double>& sum, std::vector<double>& y, std::vector<double>& mag) {
            sum.assign(x.size(), 0.0);
            y.assign(x.size(), 0.0);
            mag.assign(x.size(), 0.0);
            for (uint32_t r = 0; r < nrows; ++r) {
                double ss = 0;
                for (uint32_t i = 0; i < n; ++i) {
                    // (the shader adds in float, as the reference does before widening)
                    const float v = add ? x[r * n + i] + t[r * n + i] : x[r * n + i];
                    sum[r * n + i] = v;
                    ss += double(v) * v;
                }
                const double inv = 1.0 / std::sqrt(ss / n + eps);
                for (uint32_t i = 0; i < n; ++i) {
                    y[r * n + i] = sum[r * n + i] * inv * w[i];
                    mag[r * n + i] = std::fabs(y[r * n + i]);
                }
            }
        };
        for (const bool add : {false, true}) {
            for (const bool f16 : {false, true}) {
                VulkanBuffer xb = host_floats(x), tb = host_floats(t, 2);
                VulkanBuffer yb = vk_->create_buffer(size_t(n) * nrows * 4 + 8, VulkanMemory::HostVisible);
                std::memset(yb.data(), 0, yb.size());
                const bonsai::VulkanRef tr(tb, 8);
                vk_->begin();
                vk_->add_rms_norm(xb, add ? &tr : nullptr, {wb, 8}, {yb, 8}, n, nrows, eps, f16);
                vk_->submit_and_wait();
                std::vector<double> sum, want, mag;
                reference(add, sum, want, mag);
                std::vector<float> got(x.size());
                if (f16) {
                    const uint16_t* h = reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(yb.data()) + 8);
                    for (size_t i = 0; i < got.size(); ++i) got[i] = bonsai::fp16_to_fp32(h[i]);
                } else {
                    got = read_floats(yb, x.size(), 2);
                }
                QString why;
                const QString tag = QString(" (add %1, f16 %2)").arg(add).arg(f16);
                QVERIFY2(close_all(got, want, mag, f16 ? 6e-4 : 1e-4, 1e-6, &why), qPrintable(why + tag));
                // x holds the sum afterwards (exactly the float additions), or is untouched.
                const std::vector<float> xs = read_floats(xb, x.size());
                for (size_t i = 0; i < x.size(); ++i)
                    QVERIFY2(xs[i] == static_cast<float>(sum[i]), qPrintable(QString("x[%1]").arg(i) + tag));
                // The bytes after the output are untouched.
                if (f16) QCOMPARE(static_cast<const uint8_t*>(yb.data())[8 + size_t(n) * nrows * 2], uint8_t(0));
            }
        }
        VulkanBuffer xb = host_floats(x), yb = host_floats(x);
        const bonsai::VulkanRef same(xb, 0);
        vk_->begin();
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->add_rms_norm(xb, nullptr, {wb, 8}, yb, n - 1, 1, eps, false));  // odd n
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->add_rms_norm(xb, &same, {wb, 8}, yb, n, nrows, eps, false));     // add aliases x
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->add_rms_norm(xb, nullptr, {wb, 4}, yb, n, nrows, eps, false));   // unaligned pairs
        vk_->submit_and_wait();

        // swiglu with f16 output.
        const uint32_t m = 1000;
        const std::vector<float> g = random_floats(m, -4.0f, 4.0f), u = random_floats(m, -2.0f, 2.0f);
        VulkanBuffer gb = host_floats(g), ub = host_floats(u), sb = vk_->create_buffer(m * 2 + 4, VulkanMemory::HostVisible);
        std::memset(sb.data(), 0, sb.size());
        for (const bool relu2 : {false, true}) {
            vk_->begin();
            vk_->swiglu(gb, ub, {sb, 4}, m, relu2, true);
            vk_->submit_and_wait();
            std::vector<float> got(m);
            std::vector<double> want(m), mag(m);
            const uint16_t* h = reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(sb.data()) + 4);
            for (uint32_t i = 0; i < m; ++i) {
                got[i] = bonsai::fp16_to_fp32(h[i]);
                const double r = std::max(0.0, double(g[i]));
                want[i] = (relu2 ? r * r : g[i] / (1.0 + std::exp(-double(g[i])))) * u[i];
                mag[i] = std::fabs(want[i]);
            }
            QString why;
            QVERIFY2(close_all(got, want, mag, 6e-4, 1e-6, &why), qPrintable(why + (relu2 ? " (relu2)" : " (silu)")));
        }
        VulkanBuffer wq = device_bytes(std::vector<uint8_t>(64 * 2 * 18), 0);
        vk_->begin();
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->swiglu(gb, ub, sb, m - 1, false, true));  // odd n
        // f16 X where the device's tiles read f32 (lavapipe has no tensor cores): refused.
        if (!vk_->matmul_reads_f16(bonsai::TensorType::Q1_0, 256, 64, 128))
            QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matmul(bonsai::TensorType::Q1_0, wq, 256, 64, sb, 128, yb, true));
        vk_->submit_and_wait();
    }

    void rope_data() {
        QTest::addColumn<bonsai::RopeStyle>("style");
        QTest::addColumn<uint32_t>("n_rot");
        QTest::addColumn<float>("base");
        QTest::newRow("norm full") << bonsai::RopeStyle::Norm << 64u << 10000.0f;
        QTest::newRow("norm partial") << bonsai::RopeStyle::Norm << 32u << 10000.0f;
        QTest::newRow("neox full") << bonsai::RopeStyle::Neox << 64u << 1000000.0f;
        QTest::newRow("neox partial") << bonsai::RopeStyle::Neox << 48u << 10000.0f;
    }

    void rope() {
        QFETCH(bonsai::RopeStyle, style);
        QFETCH(uint32_t, n_rot);
        QFETCH(float, base);
        const uint32_t head_dim = 64, n_heads = 3, n_tokens = 4;
        const std::vector<int32_t> pos = {0, 1, 7, 50};
        std::vector<float> x = random_floats(head_dim * n_heads * n_tokens, -1.0f, 1.0f);
        VulkanBuffer xb = host_floats(x);
        VulkanBuffer pb = vk_->create_buffer(pos.size() * 4, VulkanMemory::HostVisible);
        std::memcpy(pb.data(), pos.data(), pos.size() * 4);
        vk_->begin();
        vk_->rope(xb, pb, head_dim, n_heads, n_tokens, n_rot, base, style);
        vk_->submit_and_wait();

        std::vector<double> want(x.begin(), x.end()), mag(x.size(), 0.0);
        for (uint32_t t = 0; t < n_tokens; ++t)
            for (uint32_t h = 0; h < n_heads; ++h) {
                const size_t b = (size_t(t) * n_heads + h) * head_dim;
                for (uint32_t d = 0; d < head_dim; ++d) mag[b + d] = 1.0;
                for (uint32_t i = 0; i < n_rot / 2; ++i) {
                    double theta = pos[t] * std::pow(double(base), -2.0 * i / n_rot);
                    size_t i0 = style == bonsai::RopeStyle::Norm ? b + 2 * i : b + i;
                    size_t i1 = style == bonsai::RopeStyle::Norm ? i0 + 1 : i0 + n_rot / 2;
                    double x0 = x[i0], x1 = x[i1];
                    want[i0] = x0 * std::cos(theta) - x1 * std::sin(theta);
                    want[i1] = x0 * std::sin(theta) + x1 * std::cos(theta);
                    // float32 angles: the error of pos * base^(-2i/n) grows with pos.
                    mag[i0] = mag[i1] = (std::fabs(x0) + std::fabs(x1)) * (1.0 + pos[t] * 0.05);
                }
            }
        QString why;
        QVERIFY2(close_all(read_floats(xb, x.size()), want, mag, 1e-4, 1e-6, &why), qPrintable(why));
    }

    void attentionDecode_data() {
        QTest::addColumn<uint32_t>("head_dim");
        QTest::addColumn<uint32_t>("n_head");
        QTest::addColumn<uint32_t>("n_kv_head");
        QTest::addColumn<uint32_t>("n_rot");
        QTest::addColumn<bool>("norms");
        QTest::addColumn<bonsai::RopeStyle>("style");
        QTest::addColumn<uint32_t>("n_kv");
        QTest::addColumn<uint32_t>("split_len");
        QTest::addColumn<bool>("llama3");  // rope_freqs factors and linear scaling
        using bonsai::RopeStyle;
        QTest::newRow("gqa 8/2 D128 neox norms kv100 split 16") << 128u << 8u << 2u << 128u << true << RopeStyle::Neox << 100u << 16u << false;
        QTest::newRow("gqa 8/2 D128 kv96 split 16 (own key first of a split)") << 128u << 8u << 2u << 128u << true << RopeStyle::Neox << 97u << 16u << false;
        QTest::newRow("mha 4/4 D64 norm-style kv1") << 64u << 4u << 4u << 64u << false << RopeStyle::Norm << 1u << 0u << false;
        QTest::newRow("gqa 4/2 D128 kv37 no split") << 128u << 4u << 2u << 128u << true << RopeStyle::Neox << 37u << 0u << false;
        QTest::newRow("gqa 6/3 D80 partial rot kv50 split 16") << 80u << 6u << 3u << 32u << true << RopeStyle::Norm << 50u << 16u << false;
        QTest::newRow("gqa 4/2 D256 kv300 split 64") << 256u << 4u << 2u << 256u << true << RopeStyle::Neox << 300u << 64u << false;
        QTest::newRow("gqa 8/2 D128 norm-style rope_freqs scaled kv40 split 16") << 128u << 8u << 2u << 128u << false << RopeStyle::Norm << 40u << 16u << true;
        QTest::newRow("gqa 8/2 D128 partial rot kv129 split 64 (own key alone)") << 128u << 8u << 2u << 64u << true << RopeStyle::Neox << 129u << 64u << false;
        QTest::newRow("gqa 4/1 D128 kv64 no split") << 128u << 4u << 1u << 128u << true << RopeStyle::Norm << 64u << 0u << false;
        QTest::newRow("gqa 4/2 D128 kv65 no split (attention.comp)") << 128u << 4u << 2u << 128u << true << RopeStyle::Neox << 65u << 0u << false;
    }

    // attention_decode against the two dispatches it replaces (qkv_post, then attention; both checked
    // against float64 by qkvPost and attention): same output and the same f16 cache row for the token
    // (its k may differ by one f16 rounding step: the norm's sum is taken in another order), other
    // cache rows untouched. Where attention_d128.comp applies (head_dim 128, at most 64 keys per
    // workgroup), attention_decode through attention.comp gives the same output too.
    void attentionDecode() {
        QFETCH(uint32_t, head_dim);
        QFETCH(uint32_t, n_head);
        QFETCH(uint32_t, n_kv_head);
        QFETCH(uint32_t, n_rot);
        QFETCH(bool, norms);
        QFETCH(bonsai::RopeStyle, style);
        QFETCH(uint32_t, n_kv);
        QFETCH(uint32_t, split_len);
        QFETCH(bool, llama3);
        const uint32_t D = head_dim, H = n_head, KVH = n_kv_head, QD = H * D, KD = KVH * D;
        const uint32_t q_at = 1, k_at = q_at + QD + 3, v_at = k_at + KD + 1;
        const std::vector<float> all = random_floats(v_at + KD + 2, -2.0f, 2.0f);
        std::vector<float> nw = random_floats(2 * D + 1, 0.5f, 1.5f);  // norms, then rope_freqs factors (1..8)
        const std::vector<float> ff = random_floats(n_rot / 2, 1.0f, 8.0f);
        nw.insert(nw.end(), ff.begin(), ff.end());
        const uint32_t rows = n_kv + 2;
        std::vector<uint16_t> cache(size_t(rows) * KD);
        for (auto& h : cache) h = bonsai::fp32_to_fp16(std::uniform_real_distribution<float>(-1.5f, 1.5f)(rng_));
        auto cache_buffer = [&] {
            VulkanBuffer b = vk_->create_buffer(cache.size() * 2, VulkanMemory::HostVisible);
            std::memcpy(b.data(), cache.data(), cache.size() * 2);
            return b;
        };
        VulkanBuffer xa = host_floats(all), xb = host_floats(all), nb = host_floats(nw);
        VulkanBuffer ka = cache_buffer(), va = cache_buffer(), kb = cache_buffer(), vb = cache_buffer();
        VulkanBuffer oa = host_floats(std::vector<float>(QD, 0.0f)), ob = host_floats(std::vector<float>(QD, 0.0f));
        const int32_t pos = int32_t(n_kv - 1 + 5);  // positions need not equal cache rows
        VulkanBuffer pb = vk_->create_buffer(4, VulkanMemory::HostVisible);
        std::memcpy(pb.data(), &pos, 4);
        const uint32_t splits = split_len ? (n_kv + split_len - 1) / split_len : 1;
        VulkanBuffer scratch = vk_->create_buffer(size_t(H) * splits * (D + 2) * 4, VulkanMemory::DeviceLocal);
        bonsai::VulkanQkvPost qp;
        qp.head_dim = D;
        qp.n_head = H;
        qp.n_kv_head = KVH;
        qp.n_rot = n_rot;
        qp.freq_base = 1000000.0f;
        qp.style = style;
        qp.q_norm = qp.k_norm = norms;
        qp.freq_scale = llama3 ? 0.25f : 1.0f;
        qp.use_freq_factors = llama3;
        qp.freq_factors = {nb, (2 * D + 1) * 4ull};
        bonsai::VulkanAttention a;
        a.head_dim = D;
        a.n_head = H;
        a.n_kv_head = KVH;
        a.n_kv = n_kv;
        a.k_pos_stride = a.v_pos_stride = KD;
        a.k_head_stride = a.v_head_stride = D;
        a.scale = 1.0f / std::sqrt(float(D));
        a.round_q_f16 = true;
        a.split_len = split_len;
        a.scratch = scratch;
        const uint64_t row = uint64_t(n_kv - 1) * KD * 2;
        const uint64_t d128_before = vk_->stats().decode128_attentions;
        vk_->begin();
        vk_->qkv_post({xa, q_at * 4ull}, {xa, k_at * 4ull}, {xa, v_at * 4ull}, {nb, 4}, {nb, (D + 1) * 4ull}, pb,
                      {ka, row}, {va, row}, qp);
        vk_->attention({xa, q_at * 4ull}, ka, va, oa, a);
        vk_->attention_decode({xb, q_at * 4ull}, {xb, k_at * 4ull}, {xb, v_at * 4ull}, {nb, 4}, {nb, (D + 1) * 4ull}, pos,
                              kb, vb, ob, qp, a);
        const uint64_t d128_count = vk_->stats().decode128_attentions - d128_before;
        // attention.comp's fused path on a copy of the inputs (its own cache copies).
        VulkanBuffer xc = host_floats(all), kc = cache_buffer(), vc = cache_buffer();
        VulkanBuffer oc = host_floats(std::vector<float>(QD, 0.0f));
        vk_->set_decode_attention128(false);
        vk_->attention_decode({xc, q_at * 4ull}, {xc, k_at * 4ull}, {xc, v_at * 4ull}, {nb, 4}, {nb, (D + 1) * 4ull}, pos,
                              kc, vc, oc, qp, a);
        vk_->set_decode_attention128(true);
        vk_->submit_and_wait();
        const bool d128 = D == 128 && (split_len && n_kv > split_len ? split_len <= 64 : n_kv <= 64);
        QCOMPARE(d128_count, uint64_t(d128 ? 2 : 0));  // attention and attention_decode
        const std::vector<float> want = read_floats(oa, QD), got = read_floats(ob, QD), old = read_floats(oc, QD);
        for (uint32_t i = 0; i < QD; ++i) {
            QVERIFY2(std::fabs(got[i] - want[i]) <= 2e-3 * (std::fabs(want[i]) + 0.05f),
                     qPrintable(QString("out %1: %2 vs %3").arg(i).arg(got[i]).arg(want[i])));
            QVERIFY2(std::fabs(got[i] - old[i]) <= 2e-3 * (std::fabs(old[i]) + 0.05f),
                     qPrintable(QString("out %1: %2 vs attention.comp's %3").arg(i).arg(got[i]).arg(old[i])));
        }
        // The same cache rows either way (k within one f16 step: the norm sums in another order).
        const uint16_t *kold = static_cast<const uint16_t*>(kc.data()), *knew = static_cast<const uint16_t*>(kb.data());
        QVERIFY(std::memcmp(vc.data(), vb.data(), cache.size() * 2) == 0);
        for (size_t i = 0; i < cache.size(); ++i) QVERIFY(std::abs(int(kold[i]) - int(knew[i])) <= 1);
        const uint16_t *kwant = static_cast<const uint16_t*>(ka.data()), *kgot = static_cast<const uint16_t*>(kb.data());
        const uint16_t *vwant = static_cast<const uint16_t*>(va.data()), *vgot = static_cast<const uint16_t*>(vb.data());
        for (size_t i = 0; i < cache.size(); ++i) {
            const bool own = i / KD == n_kv - 1;
            if (!own) {
                QCOMPARE(kgot[i], cache[i]);
                QCOMPARE(vgot[i], cache[i]);
                continue;
            }
            QCOMPARE(vgot[i], vwant[i]);
            QVERIFY2(std::abs(int(kgot[i]) - int(kwant[i])) <= 1, qPrintable(QString("k cache %1").arg(i)));
        }
        // (The cache row of the token starts with random values, so reading it instead of the token's
        // own k and v would change the output.)
    }

    void qkvPost_data() {
        QTest::addColumn<bonsai::RopeStyle>("style");
        QTest::addColumn<uint32_t>("head_dim");
        QTest::addColumn<uint32_t>("n_rot");
        QTest::addColumn<bool>("norms");
        QTest::addColumn<uint32_t>("n_tokens");
        QTest::addColumn<bool>("llama3");  // rope_freqs factors and linear scaling (freq_scale 0.25)
        // q, k and v of a token side by side, tokens QD + 2 KD + 3 floats apart (VulkanQkvPost::token_stride),
        // q packed into another buffer (q_out): a fused q|k|v matmul's output.
        QTest::addColumn<bool>("strided");
        QTest::newRow("neox qk-norm 1 token") << bonsai::RopeStyle::Neox << 128u << 128u << true << 1u << false << false;
        QTest::newRow("neox qk-norm 5 tokens") << bonsai::RopeStyle::Neox << 64u << 64u << true << 5u << false << false;
        QTest::newRow("norm partial no norm 3 tokens") << bonsai::RopeStyle::Norm << 160u << 96u << false << 3u << false << false;
        QTest::newRow("norm d=512 1 token") << bonsai::RopeStyle::Norm << 512u << 512u << true << 1u << false << false;
        QTest::newRow("norm rope_freqs scaled 4 tokens") << bonsai::RopeStyle::Norm << 128u << 128u << false << 4u << true << false;
        QTest::newRow("neox rope_freqs scaled qk-norm 2 tokens") << bonsai::RopeStyle::Neox << 64u << 48u << true << 2u << true << false;
        QTest::newRow("neox qk-norm 5 tokens strided") << bonsai::RopeStyle::Neox << 128u << 128u << true << 5u << false << true;
        QTest::newRow("norm partial rope_freqs 3 tokens strided") << bonsai::RopeStyle::Norm << 64u << 48u << false << 3u << true << true;
    }

    // qkv_post against float64 rms_norm -> rope (q in place, or packed into q_out when strided) and f16
    // stores of k and v into caches at an offset (position 2 of the cache), with q, k and v at unaligned
    // float offsets of one buffer.
    void qkvPost() {
        QFETCH(bonsai::RopeStyle, style);
        QFETCH(uint32_t, head_dim);
        QFETCH(uint32_t, n_rot);
        QFETCH(bool, norms);
        QFETCH(uint32_t, n_tokens);
        QFETCH(bool, llama3);
        QFETCH(bool, strided);
        const uint32_t D = head_dim, H = 6, KVH = 2, QD = H * D, KD = KVH * D;
        const float base = 1000000.0f, eps = 1e-6f, freq_scale = llama3 ? 0.25f : 1.0f;
        const uint32_t ts = strided ? QD + 2 * KD + 3 : 0, q_ts = strided ? ts : QD, kv_ts = strided ? ts : KD;
        const uint32_t q_at = 3, k_at = strided ? q_at + QD : q_at + n_tokens * QD + 1,
                       v_at = strided ? k_at + KD : k_at + n_tokens * KD + 2;
        std::vector<float> all = random_floats(strided ? q_at + n_tokens * ts + 4 : v_at + n_tokens * KD + 4, -2.0f, 2.0f);
        VulkanBuffer qo = host_floats(std::vector<float>(1 + n_tokens * QD + 1, -7.0f));  // q_out at float 1
        // q_norm at 1, k_norm at D + 1, rope_freqs factors (1..8) at 2D + 1
        std::vector<float> nw = random_floats(2 * D + 1, 0.5f, 1.5f);
        const std::vector<float> ff = random_floats(n_rot / 2, 1.0f, 8.0f);
        nw.insert(nw.end(), ff.begin(), ff.end());
        std::vector<int32_t> pos(n_tokens);
        for (uint32_t t = 0; t < n_tokens; ++t) pos[t] = int32_t(2 + 9 * t);
        VulkanBuffer xb = host_floats(all), nb = host_floats(nw);
        VulkanBuffer pb = vk_->create_buffer(pos.size() * 4, VulkanMemory::HostVisible);
        std::memcpy(pb.data(), pos.data(), pos.size() * 4);
        const uint32_t cache_rows = n_tokens + 3;
        VulkanBuffer kc = host_floats(std::vector<float>(cache_rows * KD / 2, 0.0f));
        VulkanBuffer vc = host_floats(std::vector<float>(cache_rows * KD / 2, 0.0f));
        bonsai::VulkanQkvPost p;
        p.head_dim = D;
        p.n_head = H;
        p.n_kv_head = KVH;
        p.n_tokens = n_tokens;
        p.n_rot = n_rot;
        p.freq_base = base;
        p.style = style;
        p.q_norm = p.k_norm = norms;
        p.eps = eps;
        p.freq_scale = freq_scale;
        p.use_freq_factors = llama3;
        p.freq_factors = {nb, (2 * D + 1) * 4ull};
        if (strided) {
            p.token_stride = ts;
            p.q_out = {qo, 4};
        }
        const uint64_t row2 = 2ull * KD * 2;  // byte offset of cache row 2
        vk_->begin();
        vk_->qkv_post({xb, q_at * 4ull}, {xb, k_at * 4ull}, {xb, v_at * 4ull}, {nb, 4}, {nb, (D + 1) * 4ull}, pb,
                      {kc, row2}, {vc, row2}, p);
        vk_->submit_and_wait();

        // Reference of one head: optional norm, then rotation.
        auto head_ref = [&](const float* x, const float* w, int32_t ps, std::vector<double>& out, std::vector<double>& mag) {
            out.assign(x, x + D);
            if (w) {
                double ss = 0;
                for (uint32_t d = 0; d < D; ++d) ss += double(x[d]) * x[d];
                const double inv = 1.0 / std::sqrt(ss / D + eps);
                for (uint32_t d = 0; d < D; ++d) out[d] = x[d] * inv * w[d];
            }
            mag.assign(D, 0.0);
            for (uint32_t d = 0; d < D; ++d) mag[d] = std::fabs(out[d]) + 1e-3;
            const std::vector<double> in = out;
            for (uint32_t i = 0; i < n_rot / 2; ++i) {
                double theta = ps * std::pow(double(base), -2.0 * i / n_rot) * freq_scale / (llama3 ? ff[i] : 1.0);
                uint32_t i0 = style == bonsai::RopeStyle::Norm ? 2 * i : i;
                uint32_t i1 = style == bonsai::RopeStyle::Norm ? i0 + 1 : i0 + n_rot / 2;
                out[i0] = in[i0] * std::cos(theta) - in[i1] * std::sin(theta);
                out[i1] = in[i0] * std::sin(theta) + in[i1] * std::cos(theta);
                mag[i0] = mag[i1] = (std::fabs(in[i0]) + std::fabs(in[i1])) * (1.0 + ps * 0.05);
            }
        };
        const float* got = static_cast<const float*>(xb.data());
        const float* got_q = strided ? static_cast<const float*>(qo.data()) + 1 : got + q_at;
        const uint16_t* kh = static_cast<const uint16_t*>(kc.data());
        const uint16_t* vh = static_cast<const uint16_t*>(vc.data());
        std::vector<double> ref, mag;
        for (uint32_t t = 0; t < n_tokens; ++t) {
            for (uint32_t h = 0; h < H; ++h) {
                const size_t o = q_at + size_t(t) * q_ts + size_t(h) * D, qo_i = size_t(t) * QD + size_t(h) * D;
                head_ref(all.data() + o, norms ? nw.data() + 1 : nullptr, pos[t], ref, mag);
                for (uint32_t d = 0; d < D; ++d) {
                    QVERIFY2(std::fabs(got_q[qo_i + d] - ref[d]) <= 1e-4 * mag[d] + 1e-6,
                             qPrintable(QString("q t%1 h%2 d%3: %4 vs %5").arg(t).arg(h).arg(d).arg(got_q[qo_i + d]).arg(ref[d])));
                    if (strided) QCOMPARE(got[o + d], all[o + d]);  // q moved: its source stays
                }
            }
            for (uint32_t h = 0; h < KVH; ++h) {
                const size_t o = k_at + size_t(t) * kv_ts + size_t(h) * D;
                head_ref(all.data() + o, norms ? nw.data() + D + 1 : nullptr, pos[t], ref, mag);
                const size_t c = size_t(2 + t) * KD + size_t(h) * D;
                for (uint32_t d = 0; d < D; ++d) {
                    // f16 storage: half an ulp of rounding (2^-11 relative) on top of the f32 error.
                    const double gk = bonsai::fp16_to_fp32(kh[c + d]);
                    QVERIFY2(std::fabs(gk - ref[d]) <= 1e-4 * mag[d] + std::fabs(ref[d]) * 4.9e-4 + 1e-6,
                             qPrintable(QString("k t%1 h%2 d%3: %4 vs %5").arg(t).arg(h).arg(d).arg(gk).arg(ref[d])));
                    const double vv = all[v_at + size_t(t) * kv_ts + size_t(h) * D + d];
                    QCOMPARE(bonsai::fp16_to_fp32(vh[c + d]), bonsai::fp16_to_fp32(bonsai::fp32_to_fp16(float(vv))));
                }
            }
        }
        // Rows 0, 1 and past the written ones stay untouched, and so does q_out around the packed q.
        for (size_t i = 0; i < 2ull * KD; ++i) QCOMPARE(kh[i], uint16_t(0));
        const float* qo_all = static_cast<const float*>(qo.data());
        QCOMPARE(qo_all[0], -7.0f);
        QCOMPARE(qo_all[1 + n_tokens * QD], -7.0f);
        if (!strided) QCOMPARE(qo_all[1], -7.0f);
        for (size_t i = size_t(2 + n_tokens) * KD; i < size_t(cache_rows) * KD; ++i) QCOMPARE(vh[i], uint16_t(0));
    }

    void softmax() {
        const uint32_t n = 1000, nrows = 3;
        const float scale = 0.5f;
        std::vector<float> x = random_floats(n * nrows, -8.0f, 8.0f);
        VulkanBuffer xb = host_floats(x), yb = host_floats(std::vector<float>(n * nrows));
        vk_->begin();
        vk_->softmax(xb, yb, n, nrows, scale);
        vk_->softmax(xb, xb, n, nrows, scale);  // in place
        vk_->submit_and_wait();
        std::vector<double> want(x.size()), mag(x.size());
        for (uint32_t r = 0; r < nrows; ++r) {
            double m = -1e300, s = 0;
            for (uint32_t i = 0; i < n; ++i) m = std::max(m, double(scale) * x[r * n + i]);
            for (uint32_t i = 0; i < n; ++i) s += std::exp(double(scale) * x[r * n + i] - m);
            for (uint32_t i = 0; i < n; ++i) {
                want[r * n + i] = std::exp(double(scale) * x[r * n + i] - m) / s;
                mag[r * n + i] = want[r * n + i];
            }
        }
        QString why;
        QVERIFY2(close_all(read_floats(yb, x.size()), want, mag, 1e-4, 1e-9, &why), qPrintable(why));
        QVERIFY2(close_all(read_floats(xb, x.size()), want, mag, 1e-4, 1e-9, &why), qPrintable(why));
    }

    void elementwise() {
        const uint32_t n = 1000, nb = 100;
        std::vector<float> a = random_floats(n, -6.0f, 6.0f), b = random_floats(n, -2.0f, 2.0f);
        VulkanBuffer ab = host_floats(a), bb = host_floats(b);
        VulkanBuffer sw = host_floats(std::vector<float>(n)), ad = host_floats(std::vector<float>(n)),
                     mu = host_floats(std::vector<float>(n)), sc = host_floats(std::vector<float>(n)),
                     r2 = host_floats(std::vector<float>(n));
        vk_->begin();
        vk_->swiglu(ab, bb, sw, n);
        vk_->swiglu(ab, bb, r2, n, true);
        vk_->add(ab, bb, ad, n);
        vk_->mul(ab, {bb, 40}, mu, n, nb);  // broadcast b[10 .. 110) over a
        vk_->scale(ab, sc, n, -0.375f);
        vk_->submit_and_wait();
        std::vector<double> w_sw(n), w_ad(n), w_mu(n), w_sc(n), w_r2(n), m_sw(n), m_ad(n), m_mu(n), m_sc(n), m_r2(n);
        for (uint32_t i = 0; i < n; ++i) {
            double g = a[i];
            w_sw[i] = g / (1.0 + std::exp(-g)) * b[i];
            m_sw[i] = std::fabs(w_sw[i]);
            w_r2[i] = (g > 0 ? g * g : 0.0) * b[i];
            m_r2[i] = std::fabs(w_r2[i]);
            w_ad[i] = double(a[i]) + b[i];
            m_ad[i] = std::fabs(a[i]) + std::fabs(b[i]);
            w_mu[i] = double(a[i]) * b[10 + i % nb];
            m_mu[i] = std::fabs(w_mu[i]);
            w_sc[i] = -0.375 * a[i];
            m_sc[i] = std::fabs(w_sc[i]);
        }
        QString why;
        QVERIFY2(close_all(read_floats(sw, n), w_sw, m_sw, 1e-4, 1e-7, &why), qPrintable("swiglu " + why));
        QVERIFY2(close_all(read_floats(r2, n), w_r2, m_r2, 1e-6, 0, &why), qPrintable("squared relu " + why));
        QVERIFY2(close_all(read_floats(ad, n), w_ad, m_ad, 1e-6, 0, &why), qPrintable("add " + why));
        QVERIFY2(close_all(read_floats(mu, n), w_mu, m_mu, 1e-6, 0, &why), qPrintable("mul " + why));
        QVERIFY2(close_all(read_floats(sc, n), w_sc, m_sc, 1e-6, 0, &why), qPrintable("scale " + why));
    }

    // quantize_i8 against float64: per row g = max(max |x|, 1e-5), a = clamp(round-half-even(x 127 / g)),
    // y = a g / 127; rows of several lengths, one all zero (g = 1e-5), one with a value that clamps.
    void quantizeI8() {
        const uint32_t n = 700, nrows = 4;
        std::vector<float> x = random_floats(size_t(n) * nrows, -3.0f, 3.0f);
        for (uint32_t i = 0; i < n; ++i) x[size_t(n) + i] = 0.0f;  // row 1: zeros
        VulkanBuffer xb = host_floats(x, 5), yb = host_floats(std::vector<float>(x.size()), 2);
        vk_->begin();
        vk_->quantize_i8({xb, 20}, {yb, 8}, n, nrows);
        vk_->submit_and_wait();
        std::vector<double> want(x.size()), mag(x.size());
        for (uint32_t r = 0; r < nrows; ++r) {
            double g = 0;
            for (uint32_t i = 0; i < n; ++i) g = std::max(g, double(std::fabs(x[size_t(r) * n + i])));
            g = std::max(g, 1e-5);
            const double s = 127.0 / g;
            for (uint32_t i = 0; i < n; ++i) {
                const double a = std::clamp(std::nearbyint(x[size_t(r) * n + i] * s), -128.0, 127.0);
                want[size_t(r) * n + i] = a / s;
                mag[size_t(r) * n + i] = g / 127.0;
            }
        }
        QString why;
        // One quantization step of slack: x·s may round differently in float at a half step.
        QVERIFY2(close_all(read_floats(yb, x.size(), 2), want, mag, 1.0001, 0, &why), qPrintable(why));
        int exact = 0;
        const std::vector<float> got = read_floats(yb, x.size(), 2);
        for (size_t i = 0; i < x.size(); ++i) exact += std::fabs(got[i] - want[i]) <= 1e-6 * mag[i] * 127.0;
        QVERIFY2(exact >= int(x.size()) - 2, qPrintable(QString("%1 of %2 values exact").arg(exact).arg(x.size())));
    }

private:
    // Integer dot products forced on and a split-K target for the length of one test (restored at the
    // end, also when a check fails).
    struct IntDotScope {
        VulkanBackend& vk;
        const bool was;
        IntDotScope(VulkanBackend& b, uint32_t split_target) : vk(b), was(b.uses_matvec_int_dot()) {
            vk.set_matvec_int_dot(true);
            vk.set_matvec_split_target(split_target);
        }
        ~IntDotScope() {
            vk.set_matvec_int_dot(was);
            vk.set_matvec_split_target(VulkanBackend::Options{}.matvec_split_target);
        }
    };

    // f16 caches for the attention tests: K laid out [pos][kv_head][D], V [kv_head][pos][D] (both
    // stride forms exercised), n_ctx positions of random values; sets p's strides and scale.
    struct AttentionCaches {
        std::vector<uint16_t> k, v;
    };
    AttentionCaches random_caches(bonsai::VulkanAttention& p, uint32_t n_ctx) {
        const uint32_t D = p.head_dim;
        AttentionCaches c{std::vector<uint16_t>(size_t(n_ctx) * p.n_kv_head * D), std::vector<uint16_t>(size_t(p.n_kv_head) * n_ctx * D)};
        for (auto* cache : {&c.k, &c.v})
            for (uint16_t& e : *cache) e = bonsai::fp32_to_fp16(std::uniform_real_distribution<float>(-1.5f, 1.5f)(rng_));
        p.k_pos_stride = p.n_kv_head * D;
        p.k_head_stride = D;
        p.v_pos_stride = D;
        p.v_head_stride = n_ctx * D;
        p.scale = 1.0f / std::sqrt(float(D));
        return c;
    }

    // float64 reference of p over the caches: query token t of p.n_tokens sees positions
    // 0 .. n_kv - n_tokens + t (causal); q rounded to f16 first when p.round_q_f16. `mag` gets the
    // probability-weighted sums of |v| (the tolerance scale).
    static void attention_reference(const std::vector<float>& q, const AttentionCaches& c, const bonsai::VulkanAttention& p,
                                    std::vector<double>& want, std::vector<double>& mag) {
        const uint32_t D = p.head_dim, group = p.n_head / p.n_kv_head;
        want.assign(q.size(), 0.0);
        mag.assign(q.size(), 0.0);
        for (uint32_t t = 0; t < p.n_tokens; ++t)
            for (uint32_t h = 0; h < p.n_head; ++h) {
                const uint32_t kvh = h / group, n_vis = p.n_kv - p.n_tokens + t + 1;
                const size_t qo = (size_t(t) * p.n_head + h) * D;
                std::vector<double> s(n_vis);
                double m = -1e300, sum = 0;
                for (uint32_t j = 0; j < n_vis; ++j) {
                    double dot = 0;
                    for (uint32_t d = 0; d < D; ++d) {
                        const double qd = p.round_q_f16 ? bonsai::fp16_to_fp32(bonsai::fp32_to_fp16(q[qo + d])) : q[qo + d];
                        dot += qd * bonsai::fp16_to_fp32(c.k[size_t(j) * p.k_pos_stride + kvh * p.k_head_stride + d]);
                    }
                    s[j] = dot * p.scale;
                    m = std::max(m, s[j]);
                }
                for (double& e : s) sum += (e = std::exp(e - m));
                for (uint32_t d = 0; d < D; ++d) {
                    double o = 0, a = 0;
                    for (uint32_t j = 0; j < n_vis; ++j) {
                        const double val = bonsai::fp16_to_fp32(c.v[size_t(kvh) * p.v_head_stride + size_t(j) * p.v_pos_stride + d]);
                        o += s[j] / sum * val;
                        a += s[j] / sum * std::fabs(val);
                    }
                    want[qo + d] = o;
                    mag[qo + d] = a;
                }
            }
    }

    static std::vector<uint8_t> cache_bytes(const std::vector<uint16_t>& c) {
        std::vector<uint8_t> b(c.size() * 2);
        std::memcpy(b.data(), c.data(), b.size());
        return b;
    }

private slots:
    void attention_data() {
        QTest::addColumn<uint32_t>("head_dim");
        QTest::addColumn<uint32_t>("n_head");
        QTest::addColumn<uint32_t>("n_kv_head");
        QTest::addColumn<uint32_t>("n_kv");
        QTest::addColumn<uint32_t>("split_len");  // split-KV decoding (partials merged by the last workgroup of a head)
        // Byte offset of the K cache in its buffer: 4 takes the 16-bit key loads, 16 (with strides and
        // head_dim multiples of 8 halves) the 16-byte ones.
        QTest::addColumn<uint32_t>("k_byte_off");
        QTest::newRow("gqa 8/2 D128 kv1") << 128u << 8u << 2u << 1u << 0u << 4u;
        QTest::newRow("gqa 8/2 D128 kv100") << 128u << 8u << 2u << 100u << 0u << 4u;
        QTest::newRow("mha 4/4 D64 kv130") << 64u << 4u << 4u << 130u << 0u << 4u;
        QTest::newRow("gqa 6/3 D80 kv64") << 80u << 6u << 3u << 64u << 0u << 4u;
        QTest::newRow("vec gqa 8/2 D128 kv100") << 128u << 8u << 2u << 100u << 0u << 16u;
        QTest::newRow("vec gqa 6/3 D80 kv70") << 80u << 6u << 3u << 70u << 0u << 16u;
        QTest::newRow("split gqa 8/2 D128 kv1") << 128u << 8u << 2u << 1u << 64u << 16u;
        QTest::newRow("split gqa 8/2 D128 kv100 by 64") << 128u << 8u << 2u << 100u << 64u << 16u;
        QTest::newRow("split mha 4/4 D64 kv130 by 32") << 64u << 4u << 4u << 130u << 32u << 4u;
        QTest::newRow("split gqa 6/3 D80 kv300 by 100") << 80u << 6u << 3u << 300u << 100u << 16u;
        QTest::newRow("split gqa 4/2 D256 kv257 by 16") << 256u << 4u << 2u << 257u << 16u << 16u;
        // More splits than the merge's 64 threads, and than its 256 shared weights.
        QTest::newRow("split gqa 4/2 D128 kv1100 by 16") << 128u << 4u << 2u << 1100u << 16u << 16u;
        QTest::newRow("split gqa 2/1 D64 kv4200 by 16") << 64u << 2u << 1u << 4200u << 16u << 16u;
        // attention_d128.comp: head_dim 128, 16-byte rows, at most 64 keys per workgroup.
        QTest::newRow("d128 gqa 8/2 kv64 whole cache") << 128u << 8u << 2u << 64u << 0u << 16u;
        QTest::newRow("d128 gqa 8/2 kv97 by 48") << 128u << 8u << 2u << 97u << 48u << 16u;
        QTest::newRow("d128 mha 4/4 kv300 by 33") << 128u << 4u << 4u << 300u << 33u << 16u;
        QTest::newRow("d128 gqa 4/2 kv65 by 64 (one key in the last split)") << 128u << 4u << 2u << 65u << 64u << 16u;
    }

    void attention() {
        QFETCH(uint32_t, head_dim);
        QFETCH(uint32_t, n_head);
        QFETCH(uint32_t, n_kv_head);
        QFETCH(uint32_t, n_kv);
        QFETCH(uint32_t, split_len);
        QFETCH(uint32_t, k_byte_off);
        const uint32_t D = head_dim, n_ctx = n_kv + 9;  // cache capacity larger than the filled part
        bonsai::VulkanAttention p;
        p.head_dim = D;
        p.n_head = n_head;
        p.n_kv_head = n_kv_head;
        p.n_kv = n_kv;
        const AttentionCaches c = random_caches(p, n_ctx);
        std::vector<float> q = random_floats(size_t(n_head) * D, -1.0f, 1.0f);
        const uint32_t splits = split_len ? (n_kv + split_len - 1) / split_len : 0;
        VulkanBuffer scratch = host_floats(std::vector<float>(size_t(n_head) * (splits + 1) * (D + 2), -9.0f));
        p.split_len = split_len;
        p.scratch = {scratch, 12};  // an offset inside the scratch buffer

        VulkanBuffer kbuf = device_bytes(cache_bytes(c.k), k_byte_off), vbuf = device_bytes(cache_bytes(c.v), 0);
        VulkanBuffer qb = host_floats(q), ob = host_floats(std::vector<float>(q.size()));
        // A second identical op into another buffer in the same submit: split-KV's per-head counters
        // must be back at 0 after the first (else the second would never merge into ob2).
        VulkanBuffer ob2 = host_floats(std::vector<float>(q.size()));
        // And attention.comp where attention_d128.comp took the op.
        VulkanBuffer ob3 = host_floats(std::vector<float>(q.size()));
        const uint64_t d128_before = vk_->stats().decode128_attentions;
        vk_->begin();
        vk_->attention(qb, {kbuf, k_byte_off}, vbuf, ob, p);
        vk_->attention(qb, {kbuf, k_byte_off}, vbuf, ob2, p);
        const uint64_t d128_count = vk_->stats().decode128_attentions - d128_before;
        vk_->set_decode_attention128(false);
        vk_->attention(qb, {kbuf, k_byte_off}, vbuf, ob3, p);
        vk_->set_decode_attention128(true);
        vk_->submit_and_wait();
        const bool d128 = D == 128 && k_byte_off % 16 == 0 && (split_len && n_kv > split_len ? split_len <= 64 : n_kv <= 64);
        QCOMPARE(d128_count, uint64_t(d128 ? 2 : 0));
        QVERIFY(read_floats(ob2, q.size(), 0) == read_floats(ob, q.size(), 0));

        std::vector<double> want, mag;
        attention_reference(q, c, p, want, mag);
        QString why;
        QVERIFY2(close_all(read_floats(ob, q.size()), want, mag, 1e-4, 1e-6, &why), qPrintable(why));
        QVERIFY2(close_all(read_floats(ob3, q.size()), want, mag, 1e-4, 1e-6, &why), qPrintable("attention.comp: " + why));
    }

    // Prompt attention (several query tokens, causal): the tiled shader (attention_prompt.comp: head_dim
    // 128, 16-byte aligned rows) and attention.comp, against a float64 reference. `hidden` cache
    // positions precede the batch (visible to every query token).
    void promptAttention_data() {
        QTest::addColumn<uint32_t>("head_dim");
        QTest::addColumn<uint32_t>("n_head");
        QTest::addColumn<uint32_t>("n_kv_head");
        QTest::addColumn<uint32_t>("n_tokens");
        QTest::addColumn<uint32_t>("hidden");
        QTest::addColumn<bool>("round_q");
        QTest::addColumn<uint32_t>("k_byte_off");
        QTest::addColumn<bool>("tiled");  // the tiled shader is expected to run (when enabled)
        QTest::newRow("D128 gqa 8/2 2 tokens") << 128u << 8u << 2u << 2u << 0u << true << 16u << true;
        QTest::newRow("D128 gqa 4/2 33 tokens after 5") << 128u << 4u << 2u << 33u << 5u << true << 16u << true;
        QTest::newRow("D128 mha 2/2 70 tokens no rounding") << 128u << 2u << 2u << 70u << 0u << false << 16u << true;
        QTest::newRow("D128 gqa 6/3 31 tokens after 40") << 128u << 6u << 3u << 31u << 40u << true << 32u << true;
        QTest::newRow("D128 gqa 4/1 64 tokens after 17") << 128u << 4u << 1u << 64u << 17u << true << 16u << true;
        QTest::newRow("D128 unaligned keys (attention.comp)") << 128u << 4u << 2u << 20u << 3u << true << 4u << false;
        QTest::newRow("D64 (attention.comp)") << 64u << 4u << 2u << 20u << 3u << true << 16u << false;
    }

    void promptAttention() {
        QFETCH(uint32_t, head_dim);
        QFETCH(uint32_t, n_head);
        QFETCH(uint32_t, n_kv_head);
        QFETCH(uint32_t, n_tokens);
        QFETCH(uint32_t, hidden);
        QFETCH(bool, round_q);
        QFETCH(uint32_t, k_byte_off);
        QFETCH(bool, tiled);
        const uint32_t D = head_dim, n_kv = hidden + n_tokens, n_ctx = n_kv + 7;
        bonsai::VulkanAttention p;
        p.head_dim = D;
        p.n_head = n_head;
        p.n_kv_head = n_kv_head;
        p.n_kv = n_kv;
        p.n_tokens = n_tokens;
        p.round_q_f16 = round_q;
        const AttentionCaches c = random_caches(p, n_ctx);
        const size_t QN = size_t(n_tokens) * n_head * D;
        std::vector<float> q = random_floats(QN, -1.0f, 1.0f);
        VulkanBuffer kbuf = device_bytes(cache_bytes(c.k), k_byte_off), vbuf = device_bytes(cache_bytes(c.v), 0);
        VulkanBuffer qb = host_floats(q), o_tiled = host_floats(std::vector<float>(QN, -5.0f)),
                     o_plain = host_floats(std::vector<float>(QN, -5.0f));
        const uint64_t before = vk_->stats().tiled_attentions;
        vk_->begin();
        vk_->attention(qb, {kbuf, k_byte_off}, vbuf, o_tiled, p);
        vk_->set_tiled_prompt_attention(false);
        vk_->attention(qb, {kbuf, k_byte_off}, vbuf, o_plain, p);
        vk_->set_tiled_prompt_attention(true);
        vk_->submit_and_wait();
        QCOMPARE(vk_->stats().tiled_attentions - before, uint64_t(tiled ? 1 : 0));

        std::vector<double> want, mag;
        attention_reference(q, c, p, want, mag);
        QString why;
        QVERIFY2(close_all(read_floats(o_tiled, QN), want, mag, 1e-4, 1e-6, &why), qPrintable("tiled: " + why));
        QVERIFY2(close_all(read_floats(o_plain, QN), want, mag, 1e-4, 1e-6, &why), qPrintable("attention.comp: " + why));
    }

    // A small block of a forward pass in one command buffer: the barriers between dispatches must
    // make each op see the previous op's output.
    void chainedOpsOneSubmit() {
        const uint32_t n = 256, hidden = 512;
        std::vector<float> x = random_floats(n, -1.0f, 1.0f), nw = random_floats(n, 0.8f, 1.2f);
        std::vector<uint8_t> wg = random_weights(TensorType::Q1_0, n, hidden), wu = random_weights(TensorType::Q2_0, n, hidden),
                             wd = random_weights(TensorType::TQ2_0, hidden, n);
        VulkanBuffer xb = host_floats(x), nwb = host_floats(nw), xn = host_floats(std::vector<float>(n));
        VulkanBuffer g = host_floats(std::vector<float>(hidden)), u = host_floats(std::vector<float>(hidden)),
                     hb = host_floats(std::vector<float>(hidden)), out = host_floats(std::vector<float>(n));
        VulkanBuffer wgb = device_bytes(wg, 0), wub = device_bytes(wu, 0), wdb = device_bytes(wd, 0);
        vk_->begin();
        vk_->rms_norm(xb, nwb, xn, n, 1, 1e-5f);
        vk_->matvec(TensorType::Q1_0, wgb, n, hidden, xn, g);
        vk_->matvec(TensorType::Q2_0, wub, n, hidden, xn, u);
        vk_->swiglu(g, u, hb, hidden);
        vk_->matvec(TensorType::TQ2_0, wdb, hidden, n, hb, out);
        vk_->add(out, xb, out, n);  // residual, in place
        vk_->submit_and_wait();

        std::vector<float> fg = reference_rows(TensorType::Q1_0, wg, n, hidden), fu = reference_rows(TensorType::Q2_0, wu, n, hidden),
                           fd = reference_rows(TensorType::TQ2_0, wd, hidden, n);
        double ss = 0;
        for (float e : x) ss += double(e) * e;
        const double inv = 1.0 / std::sqrt(ss / n + 1e-5);
        std::vector<double> xr(n), h(hidden), want(n), mag(n);
        for (uint32_t i = 0; i < n; ++i) xr[i] = x[i] * inv * nw[i];
        for (uint32_t r = 0; r < hidden; ++r) {
            double a = 0, b = 0;
            for (uint32_t i = 0; i < n; ++i) {
                a += double(fg[size_t(r) * n + i]) * xr[i];
                b += double(fu[size_t(r) * n + i]) * xr[i];
            }
            h[r] = a / (1.0 + std::exp(-a)) * b;
        }
        for (uint32_t r = 0; r < n; ++r) {
            double s = 0, m = 0;
            for (uint32_t i = 0; i < hidden; ++i) {
                s += double(fd[size_t(r) * hidden + i]) * h[i];
                m += std::fabs(double(fd[size_t(r) * hidden + i]) * h[i]);
            }
            want[r] = s + x[r];
            mag[r] = m + std::fabs(x[r]);
        }
        QString why;
        // Errors of the first matvecs are amplified through swiglu; 1e-3 of the magnitudes is still far
        // below what a missing barrier (stale or zero data) produces.
        QVERIFY2(close_all(read_floats(out, n), want, mag, 1e-3, 1e-5, &why), qPrintable(why));
    }

    // A chain of 300 dispatches over 301 distinct buffers in one recording (300 descriptor sets: more
    // than one 256-set pool), run twice: the second run allocates no device memory, pools, pipelines
    // or descriptor sets (the sets are cached per pipeline layout + buffers). Then the buffers are
    // destroyed and a new chain is built: its sets must not be stale cached ones (a new buffer may get
    // a destroyed one's handle), checked through the results and the validation layer.
    // More than 4096 cached sets of destroyed buffers make the next begin() reset the pools: the
    // recordings after that still compute the right thing and reuse the pools (no new ones).
    void descriptorPoolsResetAfterManyDroppedSets() {
        const uint32_t n = 8, count = 4200;
        auto chain = [&] {
            std::vector<float> x = random_floats(n, -1.0f, 1.0f);
            std::vector<VulkanBuffer> bufs;
            for (uint32_t i = 0; i <= count; ++i) bufs.push_back(host_floats(i == 0 ? x : std::vector<float>(n, 0.0f)));
            vk_->begin();
            for (uint32_t i = 0; i < count; ++i) vk_->scale(bufs[i], bufs[i + 1], n, i % 2 ? 2.0f : 0.5f);
            vk_->submit_and_wait();
            std::vector<double> want(x.begin(), x.end()), mag(n);
            for (uint32_t i = 0; i < n; ++i) mag[i] = std::fabs(want[i]);
            QString why;
            QVERIFY2(close_all(read_floats(bufs[count], n), want, mag, 1e-6, 0, &why), qPrintable(why));
        };
        chain();  // its sets are dropped when its buffers go
        chain();  // begin() reset the pools first
        const uint64_t pools = vk_->stats().descriptor_pools;
        chain();
        QCOMPARE(vk_->stats().descriptor_pools, pools);
    }

    void steadyStateNoAllocation() {
        const uint32_t n = 1000, steps = 300;
        std::vector<float> x = random_floats(n, -1.0f, 1.0f);
        for (int chain = 0; chain < 2; ++chain) {
            std::vector<VulkanBuffer> bufs;
            for (uint32_t i = 0; i <= steps; ++i) bufs.push_back(host_floats(std::vector<float>(n, 0.0f)));
            auto run = [&] {
                std::memcpy(bufs[0].data(), x.data(), n * 4);
                vk_->begin();
                for (uint32_t i = 0; i < steps; ++i) vk_->scale(bufs[i], bufs[i + 1], n, 1.002f);
                vk_->submit_and_wait();
            };
            run();
            const bonsai::VulkanStats before = vk_->stats();
            run();
            run();
            const bonsai::VulkanStats after = vk_->stats();
            QCOMPARE(after.device_memory_allocations, before.device_memory_allocations);
            QCOMPARE(after.descriptor_pools, before.descriptor_pools);
            QCOMPARE(after.descriptor_sets, before.descriptor_sets);
            QCOMPARE(after.pipelines, before.pipelines);
            QCOMPARE(after.submits, before.submits + 2);
            QVERIFY(before.descriptor_pools >= 2);  // 300 sets do not fit one 256-set pool
            std::vector<double> want(n), mag(n);
            const double f = std::pow(1.002, double(steps));
            for (uint32_t i = 0; i < n; ++i) {
                want[i] = x[i] * f;
                mag[i] = std::fabs(want[i]);
            }
            QString why;
            QVERIFY2(close_all(read_floats(bufs[steps], n), want, mag, 1e-4, 1e-6, &why), qPrintable(why));
        }
    }

    void badArgumentsThrow() {
        VulkanBuffer small = vk_->create_buffer(64, VulkanMemory::HostVisible);
        VulkanBuffer w = vk_->create_buffer(18 * 4, VulkanMemory::DeviceLocal);
        // Outside begin()/submit_and_wait().
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->scale(small, small, 16, 2.0f));
        vk_->begin();
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->begin());
        // Ranges past the end of a buffer, misaligned float offsets, unsupported types, bad shapes.
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->scale(small, small, 17, 2.0f));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->scale({small, 2}, small, 4, 2.0f));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec(TensorType::Q1_0, w, 128, 5, small, small));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec(TensorType::Q1_0, w, 100, 1, small, small));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec(TensorType::Q4_K, w, 256, 1, small, small));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->matvec_fused(TensorType::Q4_0, w, 32, 1, small, small, {}));
        bonsai::VulkanQkvPost qp;
        qp.head_dim = 2;
        qp.n_head = qp.n_kv_head = 1;
        qp.n_rot = 2;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->qkv_post(small, w, small, small, small, small, small, small, qp));
        qp.head_dim = 3;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->qkv_post(small, small, small, small, small, small, small, small, qp));
        // Strided q, k and v: a stride shorter than q, or q_out in their buffer (workgroups would overwrite
        // other tokens' inputs), is refused; a separate q_out is taken.
        qp.head_dim = 2;
        const bonsai::VulkanRef kr(small, 8), vr(small, 16);
        qp.token_stride = 1;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->qkv_post(small, kr, vr, small, small, small, small, small, qp));
        qp.token_stride = 6;
        qp.q_out = {small, 32};
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->qkv_post(small, kr, vr, small, small, small, small, small, qp));
        VulkanBuffer other = vk_->create_buffer(64, VulkanMemory::HostVisible);
        qp.q_out = other;
        vk_->qkv_post(small, kr, vr, small, small, small, small, small, qp);
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->rope(small, small, 8, 1, 1, 7, 10000.0f, bonsai::RopeStyle::Norm));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->add(small, small, small, 16, 5));
        bonsai::VulkanAttention p;
        p.head_dim = 4;
        p.n_head = 3;
        p.n_kv_head = 2;
        p.n_kv = 1;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->attention(small, small, small, small, p));
        vk_->submit_and_wait();  // the recording stays usable after rejected ops
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->submit_and_wait());
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, vk_->create_buffer(0, VulkanMemory::HostVisible));
    }
};

QTEST_GUILESS_MAIN(TestVulkanOps)
#include "test_vulkan_ops.moc"
