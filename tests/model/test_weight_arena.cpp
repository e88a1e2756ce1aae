// WeightArena (engine/model/weight_arena.h): the memory of the CPU backend's repacked weights.
#include <QtTest>

#include <cstring>
#include <memory>
#include <vector>

#include "model/weight_arena.h"

using bonsai::model_detail::WeightArena;

class TestWeightArena : public QObject {
    Q_OBJECT

    static uintptr_t addr(const std::shared_ptr<uint8_t[]>& p) { return reinterpret_cast<uintptr_t>(p.get()); }

private slots:
    // Tensors are packed into 2 MiB-aligned chunks, 64-byte aligned and disjoint; writing one never
    // changes another.
    void packsAlignedDisjointTensors() {
        WeightArena a(4 << 20);  // 4 MiB chunks
        std::vector<std::shared_ptr<uint8_t[]>> ps;
        std::vector<size_t> sizes{100, 64, 1 << 20, 3, 777, (1 << 20) + 5};
        for (size_t n : sizes) ps.push_back(a.take(n));
        QCOMPARE(addr(ps[0]) % (2u << 20), uintptr_t(0));  // a chunk's first tensor starts it
        for (size_t i = 0; i < ps.size(); ++i) {
            QCOMPARE(addr(ps[i]) % 64, uintptr_t(0));
            std::memset(ps[i].get(), int(i + 1), sizes[i]);
        }
        for (size_t i = 0; i < ps.size(); ++i)
            for (size_t j = 0; j < sizes[i]; ++j) QCOMPARE(int(ps[i][j]), int(i + 1));
        QCOMPARE(a.reserved(), size_t(4) << 20);  // 2.0 MiB + padding fits one chunk
    }

    // A full chunk opens the next one; a tensor larger than a chunk gets its own (rounded to 2 MiB)
    // and the open chunk keeps serving small tensors.
    void growsByChunksAndIsolatesLargeTensors() {
        WeightArena a(2 << 20);
        auto p1 = a.take(1536 << 10);
        auto p2 = a.take(1 << 20);  // does not fit the rest of the first chunk
        QCOMPARE(a.reserved(), size_t(4) << 20);
        QCOMPARE(addr(p2) % (2u << 20), uintptr_t(0));
        auto big = a.take((5 << 20) + 1);
        QCOMPARE(a.reserved(), size_t(4 + 6) << 20);
        QCOMPARE(addr(big) % (2u << 20), uintptr_t(0));
        auto p3 = a.take(4096);  // back in the second chunk, right after p2
        QCOMPARE(addr(p3), addr(p2) + (1u << 20));
        QCOMPARE(a.reserved(), size_t(10) << 20);
    }

    // A tensor's memory outlives the arena (the loader's binder) as long as the tensor is held.
    void memoryOutlivesTheArena() {
        std::shared_ptr<uint8_t[]> keep;
        {
            WeightArena a;
            keep = a.take(1000);
            auto other = a.take(1000);
            std::memset(keep.get(), 0x5A, 1000);
        }
        for (int i = 0; i < 1000; ++i) QCOMPARE(int(keep[i]), 0x5A);
    }
};

QTEST_APPLESS_MAIN(TestWeightArena)
#include "test_weight_arena.moc"
