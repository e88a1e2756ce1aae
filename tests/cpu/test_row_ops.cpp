// The vectorized row operations (row_ops.h) under every ISA family this machine has, against float64
// references written here from the numerics contract: attention with f16-rounded probabilities against
// an f16 cache, RMSNorm sums, SiLU gating; and llama.cpp's Q8_0 / Q8_K activation quantization, whose
// SIMD bodies must produce exactly the scalar bytes (ties, zero blocks, sign of the largest value).
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <atomic>
#include <random>
#include <stdexcept>
#include <string>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/row_ops.h"
#include "backend/cpu/thread_pool.h"
#include "bonsai/error.h"
#include "bonsai/memory_bandwidth.h"
#include "bonsai/tensor_type.h"

using namespace bonsai;

namespace {

std::vector<cpu::Isa> isas() {
    std::vector<cpu::Isa> v{cpu::Isa::Scalar};
    if (cpu::detected_isa() >= cpu::Isa::Avx2) v.push_back(cpu::Isa::Avx2);
    if (cpu::detected_isa() >= cpu::Isa::Avx512) v.push_back(cpu::Isa::Avx512);  // attention's AVX-512 body
    return v;
}

struct IsaGuard {
    explicit IsaGuard(cpu::Isa i) { cpu::set_isa_override(i); }
    ~IsaGuard() { cpu::reset_isa_override(); }
};

std::vector<float> random_floats(size_t n, std::mt19937& rng, float sd = 1.0f) {
    std::normal_distribution<float> nd(0.0f, sd);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
}

}  // namespace

class TestRowOps : public QObject {
    Q_OBJECT
private slots:
    void attention_matches_float64() {
        std::mt19937 rng(7);
        for (cpu::Isa isa : isas()) {
            IsaGuard g(isa);
            for (int n_q : {1, 2, 3, 4}) {
                for (int64_t dim : {8, 40, 64, 128}) {
                    for (int64_t n_kv : {1, 7, 33, 130}) {
                        const int64_t stride = dim * 3 + 8;  // rows of several KV heads, this head at offset 0
                        std::vector<uint16_t> k(static_cast<size_t>(n_kv * stride)), v(k.size());
                        for (auto* c : {&k, &v})
                            for (auto& h : *c) h = fp32_to_fp16(random_floats(1, rng)[0]);
                        std::vector<float> q = random_floats(static_cast<size_t>(n_q * dim), rng, 2.0f);
                        for (auto& x : q) x = fp16_to_fp32(fp32_to_fp16(x));
                        const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
                        std::vector<float> scratch(static_cast<size_t>(n_q * n_kv)), out(static_cast<size_t>(n_q * dim), -1.0f);
                        cpu::attend_group(q.data(), n_q, dim, k.data(), v.data(), stride, n_kv, scale, scratch.data(), out.data());
                        for (int h = 0; h < n_q; ++h) {
                            std::vector<double> s(static_cast<size_t>(n_kv));
                            double mx = -1e300, sum = 0;
                            for (int64_t j = 0; j < n_kv; ++j) {
                                double d = 0;
                                for (int64_t i = 0; i < dim; ++i)
                                    d += static_cast<double>(q[static_cast<size_t>(h * dim + i)]) * fp16_to_fp32(k[static_cast<size_t>(j * stride + i)]);
                                s[static_cast<size_t>(j)] = d * scale;
                                mx = std::max(mx, d * scale);
                            }
                            for (auto& x : s) sum += (x = std::exp(x - mx));
                            for (int64_t i = 0; i < dim; ++i) {
                                double ref = 0, mag = 0;
                                for (int64_t j = 0; j < n_kv; ++j) {
                                    const double p = fp16_to_fp32(fp32_to_fp16(static_cast<float>(s[static_cast<size_t>(j)] / sum)));
                                    const double vv = fp16_to_fp32(v[static_cast<size_t>(j * stride + i)]);
                                    ref += p * vv;
                                    mag += std::fabs(p * vv);
                                }
                                const double got = out[static_cast<size_t>(h * dim + i)];
                                // f16 rounding of p may flip with the last float bit of a score: allow 2^-10 of |p·v|.
                                if (std::fabs(got - ref) > 1e-3 * mag + 1e-6)
                                    QFAIL(qPrintable(QString("isa %1 n_q %2 dim %3 n_kv %4 h %5 i %6: %7 vs %8")
                                                         .arg(cpu::isa_name(isa)).arg(n_q).arg(dim).arg(n_kv).arg(h).arg(i)
                                                         .arg(got).arg(ref)));
                            }
                        }
                    }
                }
            }
        }
    }

    // Prompt attention as the forward pass runs it (model/layers.cpp): n_tok new tokens after pos0 cached
    // ones, one work item per tile of T tokens × KV head on a thread pool (attend_tokens), token t
    // attending positions 0..pos0+t (causal), Q rounded through f16 by round_f16_row. Shapes cover
    // head_dim 64/80/128, GQA groups of 1/2/4/5, tiles of 1..8 tokens with a partial last tile (passes of
    // 1..4 rows whose key counts differ), every key count 1..600 (so every remainder of the SIMD key
    // blocks), with 1..3 threads. Checked against float64 math per token and head; a wide-spread case
    // makes many probabilities underflow (tiny, subnormal and zero exponentials).
    void prefill_attention_matches_float64() {
        struct Case { int64_t dim, G, HK, pos0, n_tok, T; float q_sd; int threads; };
        const Case cases[] = {
            {64, 1, 1, 0, 600, 8, 2.0f, 2},    // key counts 1..600
            {128, 2, 2, 0, 45, 4, 2.0f, 3},    // the Bonsai-1.7B shape (G 2, head_dim 128) and its tiles
            {128, 2, 1, 517, 20, 1, 2.0f, 2},  // a later chunk: key counts 518..537, one token per item
            {128, 2, 1, 517, 23, 3, 2.0f, 2},  // passes of 4 + 2 rows
            {80, 4, 2, 3, 37, 2, 2.0f, 1},
            {64, 4, 1, 200, 9, 2, 12.0f, 2},   // sharp softmax: most e^x underflow
            {80, 1, 3, 61, 11, 5, 1.0f, 3},
            {48, 5, 1, 6, 7, 3, 2.0f, 2},      // 15 rows per tile: passes of 4, 4, 4, 3
        };
        std::mt19937 rng(11);
        for (cpu::Isa isa : isas()) {
            IsaGuard guard(isa);
            for (const Case& c : cases) {
                const int64_t D = c.dim, G = c.G, HK = c.HK, H = G * HK, n_ctx = c.pos0 + c.n_tok, stride = HK * D;
                std::vector<uint16_t> k(static_cast<size_t>(n_ctx * stride)), v(k.size());
                for (auto* cache : {&k, &v}) {
                    const std::vector<float> f = random_floats(cache->size(), rng);
                    for (size_t i = 0; i < f.size(); ++i) (*cache)[i] = fp32_to_fp16(f[i]);
                }
                const std::vector<float> q = random_floats(static_cast<size_t>(c.n_tok * H * D), rng, c.q_sd);
                const float scale = 1.0f / std::sqrt(static_cast<float>(D));
                std::vector<float> out(q.size(), -7.0f);
                cpu::ThreadPool pool(c.threads);
                const int64_t n_tiles = (c.n_tok + c.T - 1) / c.T;
                pool.parallel_for(n_tiles * HK, [&](int64_t w0, int64_t w1) {
                    std::vector<float> qh(static_cast<size_t>(c.T * G * D)), sc(static_cast<size_t>(c.T * G * n_ctx));
                    for (int64_t w = w0; w < w1; ++w) {
                        const int64_t t0 = w / HK * c.T, g = w % HK, nt = std::min(c.T, c.n_tok - t0);
                        for (int64_t i = 0; i < nt; ++i)
                            cpu::round_f16_row(q.data() + ((t0 + i) * H + g * G) * D, qh.data() + i * G * D, G * D);
                        cpu::attend_tokens(qh.data(), static_cast<int>(nt), static_cast<int>(G), D, k.data() + g * D,
                                           v.data() + g * D, stride, c.pos0 + t0 + 1, scale, sc.data(),
                                           out.data() + (t0 * H + g * G) * D, H * D);
                    }
                });
                // A row's result does not depend on the tile it was computed in (row_ops.h): the same bits
                // as one token alone through attend_group.
                {
                    std::vector<float> qh(static_cast<size_t>(G * D)), sc(static_cast<size_t>(G * n_ctx)), alone(qh.size());
                    for (int64_t t = 0; t < c.n_tok; ++t)
                        for (int64_t g = 0; g < HK; ++g) {
                            cpu::round_f16_row(q.data() + (t * H + g * G) * D, qh.data(), G * D);
                            cpu::attend_group(qh.data(), static_cast<int>(G), D, k.data() + g * D, v.data() + g * D, stride,
                                              c.pos0 + t + 1, scale, sc.data(), alone.data());
                            QVERIFY2(std::memcmp(alone.data(), out.data() + (t * H + g * G) * D, alone.size() * sizeof(float)) == 0,
                                     qPrintable(QString("isa %1 dim %2 token %3 head %4: tile result differs from attend_group")
                                                    .arg(cpu::isa_name(isa)).arg(D).arg(t).arg(g)));
                        }
                }
                std::vector<double> s(static_cast<size_t>(n_ctx)), qd(static_cast<size_t>(D));
                for (int64_t t = 0; t < c.n_tok; ++t) {
                    const int64_t n_kv = c.pos0 + t + 1;
                    for (int64_t h = 0; h < H; ++h) {
                        const int64_t g = h / G;
                        for (int64_t i = 0; i < D; ++i)
                            qd[static_cast<size_t>(i)] = fp16_to_fp32(fp32_to_fp16(q[static_cast<size_t>((t * H + h) * D + i)]));
                        double mx = -1e300, sum = 0;
                        for (int64_t j = 0; j < n_kv; ++j) {
                            double d = 0;
                            for (int64_t i = 0; i < D; ++i)
                                d += qd[static_cast<size_t>(i)] * fp16_to_fp32(k[static_cast<size_t>(j * stride + g * D + i)]);
                            s[static_cast<size_t>(j)] = d * scale;
                            mx = std::max(mx, d * scale);
                        }
                        for (int64_t j = 0; j < n_kv; ++j) sum += (s[static_cast<size_t>(j)] = std::exp(s[static_cast<size_t>(j)] - mx));
                        for (int64_t j = 0; j < n_kv; ++j)
                            s[static_cast<size_t>(j)] = fp16_to_fp32(fp32_to_fp16(static_cast<float>(s[static_cast<size_t>(j)] / sum)));
                        for (int64_t i = 0; i < D; ++i) {
                            double ref = 0, mag = 0;
                            for (int64_t j = 0; j < n_kv; ++j) {
                                const double pv = s[static_cast<size_t>(j)] * fp16_to_fp32(v[static_cast<size_t>(j * stride + g * D + i)]);
                                ref += pv;
                                mag += std::fabs(pv);
                            }
                            const double got = out[static_cast<size_t>((t * H + h) * D + i)];
                            // f16 rounding of p may flip with the last float bit of a score: allow 2^-10 of Σ|p·v|.
                            if (!(std::fabs(got - ref) <= 1e-3 * mag + 1e-6))
                                QFAIL(qPrintable(QString("isa %1 D %2 G %3 HK %4 pos0 %5 t %6 h %7 i %8: %9 vs %10")
                                                     .arg(cpu::isa_name(isa)).arg(D).arg(G).arg(HK).arg(c.pos0).arg(t).arg(h)
                                                     .arg(i).arg(got).arg(ref)));
                        }
                    }
                }
            }
        }
    }

    // round_f16_row equals the scalar f16 round trip bit for bit (ties to even, subnormals, in place).
    void round_f16_row_matches_scalar() {
        std::mt19937 rng(5);
        std::vector<float> x = random_floats(203, rng, 3.0f);
        x[0] = 1.0f + 1.0f / 2048.0f;   // tie: rounds down to even 1.0
        x[1] = 1.0f + 3.0f / 2048.0f;   // tie: rounds up to even
        x[2] = 3e-6f;                   // f16 subnormal
        x[3] = 70000.0f;                // beyond f16 range: inf
        for (size_t i = 4; i < 40; ++i) x[i] *= 1e-5f;
        for (cpu::Isa isa : isas()) {
            IsaGuard guard(isa);
            std::vector<float> y(x.size()), z = x;
            cpu::round_f16_row(x.data(), y.data(), static_cast<int64_t>(x.size()));
            cpu::round_f16_row(z.data(), z.data(), static_cast<int64_t>(z.size()));
            for (size_t i = 0; i < x.size(); ++i) {
                const float want = fp16_to_fp32(fp32_to_fp16(x[i]));
                QCOMPARE(std::memcmp(&y[i], &want, 4), 0);
                QCOMPARE(std::memcmp(&z[i], &want, 4), 0);
            }
            QCOMPARE(y[0], 1.0f);
            QCOMPARE(y[1], 1.0f + 2.0f / 1024.0f);
            QVERIFY(std::isinf(y[3]));
        }
    }

    // Every item is run exactly once for static and claimed-grain splits, with 1..3 threads and item
    // counts around the grain; an exception in one chunk reaches the caller and the pool stays usable.
    void thread_pool_covers_every_item_once() {
        for (int threads : {1, 2, 3}) {
            cpu::ThreadPool pool(threads);
            for (int64_t n : {1, 2, 15, 16, 17, 1000}) {
                for (int64_t grain : {0, 1, 16, 64}) {
                    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                    std::atomic<bool> bad_chunk{false};  // QVERIFY must not run on worker threads
                    pool.parallel_for(n, [&](int64_t b, int64_t e) {
                        if (!(b < e && e <= n) || (grain > 0 && e - b > grain)) bad_chunk = true;
                        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
                    }, grain);
                    QVERIFY(!bad_chunk);
                    for (auto& h : hits) QCOMPARE(h.load(), 1);
                }
            }
            bool thrown = false;
            try {
                pool.parallel_for(100, [](int64_t b, int64_t) {
                    if (b == 48) throw std::runtime_error("chunk failed");
                }, 16);
            } catch (const std::runtime_error& e) {
                thrown = std::string(e.what()) == "chunk failed";
            }
            QVERIFY(thrown);
            std::atomic<int64_t> total{0};
            pool.parallel_for(10, [&](int64_t b, int64_t e) { total += e - b; }, 3);
            QCOMPARE(total.load(), int64_t(10));
        }
    }

    // Guided claims: every item exactly once, each chunk starting on a multiple of the unit and spanning
    // whole units (but the last), no chunk larger than its share of what was left; exceptions propagate.
    void thread_pool_guided_covers_every_item_once() {
        for (int threads : {1, 2, 3}) {
            cpu::ThreadPool pool(threads);
            for (int64_t n : {1, 15, 16, 17, 100, 2048, 6150}) {
                for (int64_t unit : {1, 16}) {
                    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                    std::atomic<bool> bad_chunk{false};
                    std::atomic<int> chunks{0};
                    pool.parallel_for_guided(n, [&](int64_t b, int64_t e) {
                        const bool whole = (e - b) % unit == 0 || e == n;
                        if (!(b < e && e <= n) || b % unit != 0 || !whole) bad_chunk = true;
                        if (threads > 1 && e - b > std::max(unit, (n - b) / (2 * threads) / unit * unit)) bad_chunk = true;
                        chunks.fetch_add(1);
                        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
                    }, unit);
                    QVERIFY(!bad_chunk);
                    for (auto& h : hits) QCOMPARE(h.load(), 1);
                    if (threads == 1) QCOMPARE(chunks.load(), 1);  // inline: one call over everything
                }
            }
            bool thrown = false;
            try {
                pool.parallel_for_guided(1000, [](int64_t b, int64_t e) {
                    if (b <= 500 && 500 < e) throw std::runtime_error("chunk failed");
                }, 16);
            } catch (const std::runtime_error& e) {
                thrown = std::string(e.what()) == "chunk failed";
            }
            QVERIFY(thrown);
        }
    }

    void quantization_is_bit_exact_across_isas() {
        std::mt19937 rng(11);
        std::vector<float> x = random_floats(4096, rng, 3.0f);
        // Special blocks: all zero, a tie of +max/-max (the first wins in Q8_K), exact .5 products.
        std::fill(x.begin(), x.begin() + 256, 0.0f);
        x[300] = 5.0f;
        x[301] = -5.0f;
        for (int i = 512; i < 544; ++i) x[static_cast<size_t>(i)] = (i % 3 - 1) * 0.5f * 127.0f / 127.0f;
        x[600] = -9.0f;
        std::vector<std::vector<uint8_t>> q0, qk;
        std::vector<std::vector<int32_t>> s0, sk;
        for (cpu::Isa isa : isas()) {
            IsaGuard g(isa);
            q0.emplace_back(4096 / 32 * 36);
            s0.emplace_back(4096 / 32);
            cpu::quantize_q8_0_blocks(x.data(), q0.back().data(), 4096, s0.back().data());
            qk.emplace_back(4096 / 256 * 292);
            sk.emplace_back(4096 / 256);
            cpu::quantize_q8_k_blocks(x.data(), qk.back().data(), 4096, sk.back().data());
        }
        // Independent check of the scalar bytes: d·q reproduces x within half a step, sums add up.
        for (int64_t b = 0; b < 4096 / 32; ++b) {
            float d;
            std::memcpy(&d, q0[0].data() + b * 36, 4);
            int32_t sum = 0;
            for (int i = 0; i < 32; ++i) {
                const int8_t q = static_cast<int8_t>(q0[0][static_cast<size_t>(b * 36 + 4 + i)]);
                sum += q;
                // d is amax/127 rounded to f16 (2^-11 relative, i.e. up to 0.07 steps at q = 127).
                QVERIFY(std::fabs(d * q - x[static_cast<size_t>(b * 32 + i)]) <= 0.58f * d + 1e-30f);
            }
            QCOMPARE(s0[0][static_cast<size_t>(b)], sum);
        }
        for (int64_t b = 0; b < 4096 / 256; ++b) {
            float d;
            std::memcpy(&d, qk[0].data() + b * 292, 4);
            for (int i = 0; i < 256; ++i) {
                const int8_t q = static_cast<int8_t>(qk[0][static_cast<size_t>(b * 292 + 4 + i)]);
                QVERIFY(std::fabs(d * q - x[static_cast<size_t>(b * 256 + i)]) <= 0.51f * std::fabs(d) + 1e-30f);
            }
        }
        float d1;
        std::memcpy(&d1, qk[0].data() + 292, 4);
        QVERIFY(d1 < 0);  // block 1's first largest magnitude is +5 → iscale = -127/5, d negative
        for (size_t i = 1; i < q0.size(); ++i) {
            QVERIFY(q0[i] == q0[0]);
            QVERIFY(s0[i] == s0[0]);
            QVERIFY(qk[i] == qk[0]);
            QVERIFY(sk[i] == sk[0]);
        }
    }

    // Q8_0 scales inside a 128-element group are whole multiples k·u of one unit (row_ops_detail.h,
    // q8_0_group_units): u = 2^(e - 15) for the group's largest scale f·2^e, f in [0.5, 1). Scales of at
    // least 1/16 of the largest are llama.cpp's (amax/127 through fp16), quieter ones rounded up; the
    // bytes are the same on every ISA. Groups: loud and 20×, 300×, all-zero quieter blocks; 4 similar
    // blocks; a 2-block tail group (n = 4 × 128 + 64).
    void q8_0_group_scales_share_a_unit() {
        std::mt19937 rng(17);
        const int64_t n = 4 * 128 + 64;
        std::vector<float> x = random_floats(static_cast<size_t>(n), rng);
        const float amp[18] = {1, 1.0f / 20, 1.0f / 300, 0,  1, 0.9f, 0.5f, 0.07f, 1.0f / 17, 1.0f / 15,
                               3, 1,         1.0f / 1000, 2, 1, 1,    1.0f / 40, 1};
        for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] *= amp[i / 32];
        std::vector<std::vector<uint8_t>> out;
        for (cpu::Isa isa : isas()) {
            IsaGuard g(isa);
            out.emplace_back(static_cast<size_t>(n / 32 * 36));
            cpu::quantize_q8_0_blocks(x.data(), out.back().data(), n, nullptr);
        }
        for (size_t i = 1; i < out.size(); ++i) QVERIFY(out[i] == out[0]);
        const uint8_t* q = out[0].data();
        int rounded = 0;
        for (int64_t g = 0; g < (n / 32 + 3) / 4; ++g) {
            const int64_t b0 = 4 * g, b1 = std::min<int64_t>(n / 32, b0 + 4);
            float llama[4] = {}, d[4] = {}, dmax = 0.0f;
            for (int64_t b = b0; b < b1; ++b) {
                float amax = 0.0f;
                for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[static_cast<size_t>(32 * b + i)]));
                llama[b - b0] = fp16_to_fp32(fp32_to_fp16(amax / 127.0f));
                std::memcpy(&d[b - b0], q + 36 * b, 4);
                dmax = std::max(dmax, llama[b - b0]);
            }
            int e = 0;
            std::frexp(static_cast<double>(dmax), &e);
            const double u = std::ldexp(1.0, e - 15);
            for (int64_t b = b0; b < b1; ++b) {
                const double k = d[b - b0] / u;
                QVERIFY2(k == std::floor(k) && k <= 32767, qPrintable(QString("block %1: d/u = %2").arg(b).arg(k)));
                if (llama[b - b0] >= dmax / 16) {
                    QCOMPARE(d[b - b0], llama[b - b0]);
                } else {
                    QVERIFY(d[b - b0] >= llama[b - b0] && d[b - b0] < llama[b - b0] + static_cast<float>(u) * 1.0001f);
                    rounded += d[b - b0] != llama[b - b0];
                }
                for (int i = 0; i < 32; ++i) {
                    const int8_t v = static_cast<int8_t>(q[36 * b + 4 + i]);
                    QVERIFY(v >= -127);
                    QVERIFY(std::fabs(d[b - b0] * v - x[static_cast<size_t>(32 * b + i)]) <= 0.58f * d[b - b0] + 1e-30f);
                }
            }
        }
        QVERIFY(rounded >= 2);  // quiet blocks did change (the others were multiples of u already)
    }

    void elementwise_match_float64() {
        std::mt19937 rng(5);
        for (cpu::Isa isa : isas()) {
            IsaGuard g(isa);
            for (int64_t n : {1, 7, 8, 33, 2048}) {
                std::vector<float> x = random_floats(static_cast<size_t>(n), rng, 4.0f), w = random_floats(static_cast<size_t>(n), rng);
                double ref = 0;
                for (float v : x) ref += static_cast<double>(v) * v;
                QVERIFY(std::fabs(cpu::sum_squares(x.data(), n) - ref) <= 1e-6 * ref);
                std::vector<float> y(x.size());
                cpu::scale_mul(x.data(), 0.5f, w.data(), y.data(), n);
                for (int64_t i = 0; i < n; ++i) QCOMPARE(y[static_cast<size_t>(i)], (x[static_cast<size_t>(i)] * 0.5f) * w[static_cast<size_t>(i)]);
                std::vector<float> gate = x;
                gate[0] = -100.0f;  // exp overflow side
                if (n > 1) gate[1] = 100.0f;
                std::vector<float> gg = gate;
                cpu::silu_mul(gg.data(), w.data(), n);
                for (int64_t i = 0; i < n; ++i) {
                    const double gv = gate[static_cast<size_t>(i)];
                    const double r = gv / (1.0 + std::exp(-gv)) * w[static_cast<size_t>(i)];
                    QVERIFY2(std::fabs(gg[static_cast<size_t>(i)] - r) <= 1e-6 * std::fabs(r) + 1e-30,
                             qPrintable(QString("silu %1: %2 vs %3").arg(gv).arg(gg[static_cast<size_t>(i)]).arg(r)));
                }
                std::vector<float> acc = x;
                cpu::add_rows(acc.data(), w.data(), n);
                for (int64_t i = 0; i < n; ++i) QCOMPARE(acc[static_cast<size_t>(i)], x[static_cast<size_t>(i)] + w[static_cast<size_t>(i)]);
                std::vector<uint16_t> h(x.size());
                cpu::f32_to_f16_row(x.data(), h.data(), n);
                for (int64_t i = 0; i < n; ++i) QCOMPARE(h[static_cast<size_t>(i)], fp32_to_fp16(x[static_cast<size_t>(i)]));
            }
        }
    }

    // sum_u64 (the bench's read stream) wraps mod 2^64 like a plain loop, tails included.
    void sum_u64_matches_plain_sum() {
        std::mt19937_64 rng(11);
        for (cpu::Isa isa : isas()) {
            IsaGuard g(isa);
            for (int64_t n : {0, 1, 3, 15, 16, 17, 31, 1000}) {
                std::vector<uint64_t> x(static_cast<size_t>(n) + 1);
                for (auto& v : x) v = rng();  // large values: the sum wraps
                uint64_t ref = 0;
                for (int64_t i = 0; i < n; ++i) ref += x[static_cast<size_t>(i + 1)];
                QCOMPARE(cpu::sum_u64(x.data() + 1, n), ref);  // + 1: an unaligned start
            }
        }
    }

    // measure_read_bandwidth on a small buffer: a positive finite rate for 1-3 threads (its own check
    // sum passed), and a readable error for a thread count below 1.
    void read_bandwidth_measures() {
        for (int t : {1, 2, 3}) {
            const double gbs = measure_read_bandwidth(t, size_t(8) << 20, 2);
            QVERIFY2(gbs > 0.0 && std::isfinite(gbs), qPrintable(QString::number(gbs)));
        }
        QVERIFY_THROWS_EXCEPTION(Error, measure_read_bandwidth(0, size_t(8) << 20, 1));
    }
};

QTEST_GUILESS_MAIN(TestRowOps)
#include "test_row_ops.moc"
