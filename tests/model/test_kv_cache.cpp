// KvCache (engine/model/kv_cache.h): the CPU backend's F16 attention cache, head-major per layer.
// Checked against the rows as stored (rounded to f16 by the quant area's converter, not the cache's).
#include <QtTest>

#include <cstdint>
#include <random>
#include <vector>

#include "bonsai/error.h"
#include "bonsai/tensor_type.h"
#include "model/kv_cache.h"

using bonsai::model_detail::KvCache;

class TestKvCache : public QObject {
    Q_OBJECT

private slots:
    // Rows stored for all heads of a position come back per head, contiguous over positions, in both
    // layers, and rewriting a position (a reused prefix that diverges) replaces exactly that row.
    void storesHeadMajorRows() {
        const int64_t L = 2, C = 37, HK = 3, D = 20, KD = HK * D;
        KvCache kv;
        kv.allocate(L, C, HK, D);
        QCOMPARE(kv.n_ctx(), C);
        QCOMPARE(kv.kv_dim(), KD);
        std::mt19937 rng(5);
        std::normal_distribution<float> nd(0.0f, 3.0f);
        std::vector<float> k(static_cast<size_t>(L * C * KD)), v(k.size());
        for (auto& x : k) x = nd(rng);
        for (auto& x : v) x = nd(rng);
        // Layer l, positions in batches of 1, 5 and the rest.
        for (int64_t l = 0; l < L; ++l) {
            const float* kl = k.data() + l * C * KD;
            const float* vl = v.data() + l * C * KD;
            kv.store(l, 0, 1, kl, vl);
            kv.store(l, 1, 5, kl + KD, vl + KD);
            kv.store(l, 6, C - 6, kl + 6 * KD, vl + 6 * KD);
        }
        auto check = [&] {
            for (int64_t l = 0; l < L; ++l)
                for (int64_t h = 0; h < HK; ++h)
                    for (int64_t p = 0; p < C; ++p)
                        for (int64_t d = 0; d < D; ++d) {
                            const size_t src = static_cast<size_t>((l * C + p) * KD + h * D + d);
                            if (kv.k(l, h)[p * D + d] != bonsai::fp32_to_fp16(k[src]) ||
                                kv.v(l, h)[p * D + d] != bonsai::fp32_to_fp16(v[src]))
                                return false;
                        }
            return true;
        };
        QVERIFY(check());
        for (int64_t i = 0; i < KD; ++i) {
            k[static_cast<size_t>((1 * C + 9) * KD + i)] = nd(rng);
            v[static_cast<size_t>((1 * C + 9) * KD + i)] = nd(rng);
        }
        kv.store(1, 9, 1, k.data() + (1 * C + 9) * KD, v.data() + (1 * C + 9) * KD);
        QVERIFY(check());
    }

    void rejectsBadArguments() {
        KvCache kv;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, kv.allocate(0, 8, 2, 4));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, kv.allocate(1, 8, 2, -4));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, kv.allocate(int64_t(1) << 40, int64_t(1) << 40, 8, 128));  // overflows
        kv.allocate(2, 8, 2, 4);
        std::vector<float> row(8, 1.0f);
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, kv.store(2, 0, 1, row.data(), row.data()));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, kv.store(0, 8, 1, row.data(), row.data()));
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, kv.store(0, -1, 1, row.data(), row.data()));
        kv.store(0, 7, 1, row.data(), row.data());
        QCOMPARE(kv.k(0, 1)[7 * 4 + 3], bonsai::fp32_to_fp16(1.0f));
        // A context far beyond this machine's memory is refused with an error, not an abort.
        KvCache big;
        QVERIFY_THROWS_EXCEPTION(bonsai::Error, big.allocate(1000, int64_t(1) << 31, 8, 128));
    }
};

QTEST_GUILESS_MAIN(TestKvCache)
#include "test_kv_cache.moc"
