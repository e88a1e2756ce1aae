// SIMD matmul kernels (every ISA family this machine has, forced through set_isa_override) against a
// float64 reference: the weights dequantized with bonsai::dequantize and the activations decoded from
// the quantized blocks the kernel consumed (Q8_0: f32 d + 32 int8; Q8_K: f32 d + 256 int8). The
// kernels' integer sums are exact, so only float summation error remains (bound 1e-5 relative to
// Σ|w·x|); a wrong lane, shift, sign or scale is far outside it. Also checks that R16 repacking is
// lossless (repacked then unpacked rows equal the GGUF bytes) and that repacked weights give the same
// results as the native scalar kernel. Shapes include row counts that are not a multiple of the
// 16-row block, token counts around the 4- and 8-token tiles, and 1, 2 and 3 threads.
// The second kernel set (kernels_ext.h: TQ1_0, Q8_0, Q4_0, PQ2_0, PTQ1_0, I2_S, F16, BF16) runs the same check,
// with row lengths that leave partial 4-block groups / odd block pairs / vector tails, and also on
// random weight bytes (every code value, Q8_0's -128, every TQ1_0 byte) with only the scales fixed up.
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/repack.h"
#include "bonsai/error.h"
#include "bonsai/tensor_type.h"
#include "quantized_weights.h"

using namespace bonsai;
using test::Quantized;
using test::make;

namespace {


// Every output within float summation error of the float64 reference (a NaN, i.e. an output never
// written, fails too).
bool check(const std::vector<float>& y, const std::vector<double>& ref, const std::vector<double>& mag, cpu::Isa isa,
           int layout, const char* path) {
    for (size_t k = 0; k < y.size(); ++k) {
        const double err = std::fabs(static_cast<double>(y[k]) - ref[k]);
        if (!(err <= 1e-5 * mag[k] + 1e-6)) {
            qWarning("%s isa %s layout %d out %zu: got %g want %g", path, cpu::isa_name(isa), layout, k,
                     static_cast<double>(y[k]), ref[k]);
            return false;
        }
    }
    return true;
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
    void cleanup() {
        cpu::reset_isa_override();
        cpu::set_amx_kernels(true);
    }

    void repackRoundTrip() {
        std::mt19937 rng(7);
        for (TensorType type : {TensorType::Q1_0, TensorType::Q2_0, TensorType::TQ2_0}) {
            // The last shape is large enough for repack_r16 to split its rows over threads.
            const bool tq = type == TensorType::TQ2_0;
            for (auto [n_in, n_out] : {std::pair<int64_t, int64_t>{tq ? 2048 : 512, 5}, {tq ? 6144 : 1536, 5}, {4096, 2050},
                                       {tq ? 2048 : 1024, 48}, {4096, 2064}, {tq ? 1280 : 1024, 96}}) {
                Quantized q = make(type, n_in, n_out, rng, tq && n_out == 5);  // TQ2_0 raw: code 3 too
                const size_t rb = row_nbytes(type, n_in);
                std::vector<uint8_t> row(rb);
                QCOMPARE(q.r16t.empty(), !tq || !cpu::r16_eligible(type, n_in));
                QCOMPARE(q.r16l.empty(), !cpu::r16l_eligible(type, n_in, n_out));
                QCOMPARE(q.r32l.empty(), !cpu::r32l_eligible(type, n_in, n_out));
                QCOMPARE(q.r32t.empty(), !cpu::r32t_eligible(type, n_in, n_out));
                for (const auto& [bytes, layout] : {std::pair{&q.r16, cpu::Layout::R16}, std::pair{&q.r16m, cpu::Layout::R16M},
                                                    std::pair{&q.r16t, cpu::Layout::R16T}, std::pair{&q.r16l, cpu::Layout::R16L},
                                                    std::pair{&q.r32l, cpu::Layout::R32L}, std::pair{&q.r32t, cpu::Layout::R32T}}) {
                    if (bytes->empty()) continue;
                    const cpu::Weight r{type, bytes->data(), n_in, n_out, layout};
                    for (int64_t o = 0; o < n_out; ++o) {
                        cpu::unpack_row_r16(r, o, row.data());
                        QVERIFY2(std::memcmp(row.data(), q.native.data() + rb * static_cast<size_t>(o), rb) == 0,
                                 qPrintable(QString("%1 n_in %2 row %3 layout %4")
                                                .arg(tensor_type_name(type)).arg(n_in).arg(o).arg(int(layout))));
                    }
                }
                QCOMPARE(q.r16m.empty(), type != TensorType::Q1_0);
            }
        }
        QVERIFY(!cpu::r16_eligible(TensorType::Q1_0, 384));
        QVERIFY(!cpu::r16_eligible(TensorType::TQ2_0, 512));
        QVERIFY(!cpu::r16_eligible(TensorType::TQ2_0, 2560));
        QVERIFY(cpu::r16_eligible(TensorType::TQ2_0, 6144));
        // The loader's choice: TQ2_0 repacked for the AVX-512 kernel only.
        QVERIFY(cpu::r16l_eligible(TensorType::Q1_0, 512, 32));
        QVERIFY(!cpu::r16l_eligible(TensorType::Q1_0, 512, 40));
        QVERIFY(!cpu::r16l_eligible(TensorType::Q2_0, 512, 32));
        QVERIFY(cpu::r32l_eligible(TensorType::Q1_0, 512, 64));
        QVERIFY(!cpu::r32l_eligible(TensorType::Q1_0, 512, 48));
        QVERIFY(!cpu::r32l_eligible(TensorType::Q1_0, 384, 64));
        QCOMPARE(cpu::preferred_layout(TensorType::TQ2_0, 2048, 16, cpu::Isa::Avx512), cpu::Layout::R16T);
        QCOMPARE(cpu::preferred_layout(TensorType::TQ2_0, 2048, 16, cpu::Isa::Avx2), cpu::Layout::Native);
        QCOMPARE(cpu::preferred_layout(TensorType::TQ2_0, 768, 64, cpu::Isa::Avx2), cpu::Layout::R32T);
        QCOMPARE(cpu::preferred_layout(TensorType::TQ2_0, 768, 64, cpu::Isa::Scalar), cpu::Layout::Native);
        QVERIFY(cpu::r32t_eligible(TensorType::TQ2_0, 256, 32));
        QVERIFY(!cpu::r32t_eligible(TensorType::TQ2_0, 256, 48));
        QVERIFY(!cpu::r32t_eligible(TensorType::Q1_0, 512, 32));
        QCOMPARE(cpu::preferred_layout(TensorType::TQ2_0, 768, 16, cpu::Isa::Avx512), cpu::Layout::Native);
        // Q1_0 on AVX-512: the table form where VBMI exists and n_out % 16 == 0 (also with AMX: oneDNN's
        // prefill reads it too).
        const char* forced = std::getenv("BONSAI_CPU_Q1_LAYOUT");
        const bool table = cpu::has_avx512_vbmi() && !(forced && std::string(forced) == "mask");
        QCOMPARE(cpu::preferred_layout(TensorType::Q1_0, 512, 32, cpu::Isa::Avx512), table ? cpu::Layout::R16L : cpu::Layout::R16M);
        QCOMPARE(cpu::preferred_layout(TensorType::Q1_0, 512, 40, cpu::Isa::Avx512), cpu::Layout::R16M);
        // Q1_0 on AVX2: the table form where n_out % 32 == 0, else R16.
        const bool mask = forced && std::string(forced) == "mask";
        QCOMPARE(cpu::preferred_layout(TensorType::Q1_0, 512, 32, cpu::Isa::Avx2), mask ? cpu::Layout::R16 : cpu::Layout::R32L);
        QCOMPARE(cpu::preferred_layout(TensorType::Q1_0, 512, 48, cpu::Isa::Avx2), cpu::Layout::R16);
        QCOMPARE(cpu::preferred_layout(TensorType::Q2_0, 512, 32, cpu::Isa::Avx2), cpu::Layout::R16);
        QCOMPARE(cpu::preferred_layout(TensorType::Q2_0, 512, 32, cpu::Isa::Scalar), cpu::Layout::Native);
        // repack_r16 refuses a target that does not belong to the type.
        Quantized t = make(TensorType::TQ2_0, 2048, 1, rng);
        std::vector<uint8_t> out(t.native.size());
        QVERIFY_THROWS_EXCEPTION(Error, cpu::repack_r16(cpu::Weight{TensorType::TQ2_0, t.native.data(), 2048, 1}, out.data()));
    }

    // TQ1_0 held as TQ2_0 where no table kernel reads TQ1_0 (repack.h): every value and scale survives,
    // on random bytes (every byte value, also the 13 that no TQ1_0 writer produces) and quantized rows.
    void tq1AsTq2Lossless() {
        std::mt19937 rng(13);
        for (int raw = 0; raw < 2; ++raw) {
            const int64_t n_in = 768, n_out = 9;
            Quantized q = make(TensorType::TQ1_0, n_in, n_out, rng, raw != 0);
            const int64_t ne[4] = {n_in, n_out, 1, 1};
            std::vector<uint8_t> tq2(tensor_nbytes(TensorType::TQ2_0, ne));
            cpu::convert_tq1_to_tq2(cpu::Weight{TensorType::TQ1_0, q.native.data(), n_in, n_out}, tq2.data());
            std::vector<float> a(static_cast<size_t>(n_in * n_out)), b(a.size());
            dequantize(TensorType::TQ1_0, q.native.data(), a.data(), n_in * n_out);
            dequantize(TensorType::TQ2_0, tq2.data(), b.data(), n_in * n_out);
            for (size_t i = 0; i < a.size(); ++i)
                QVERIFY2(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])), qPrintable(QString("element %1").arg(i)));
        }
        QVERIFY(cpu::tq1_as_tq2(cpu::Isa::Avx2));
        QVERIFY(!cpu::tq1_as_tq2(cpu::Isa::Scalar));
        QCOMPARE(cpu::tq1_as_tq2(cpu::Isa::Avx512), !cpu::has_avx512_vbmi());
        std::vector<uint8_t> out(66);
        uint8_t blk[54] = {};
        QVERIFY_THROWS_EXCEPTION(Error, cpu::convert_tq1_to_tq2(cpu::Weight{TensorType::TQ2_0, blk, 256, 1}, out.data()));
    }

    // R16L's and R32L's documented placement (repack.h, r16l_layout.h), computed here from the formula
    // rather than through R16LView: vector (rb, b) of 4·Rows bytes (Rows = 16 or 32) of a slice L of width
    // wL = min(64, nb - 64L) sits at vector index 64L·n_rb + rb·wL + (b - 64L); byte column j of row
    // Rows·rb + r holds bits 4j..4j+3 of native block b's word in the low nibble and bits 16+4j.. in the
    // high one, at byte 4r + j (R16L) or 32j + pos(r), pos(r) = 16·((r % 8) / 4) + 4·(r / 8) + r % 4
    // (R32L); scales follow the codes in the same order by groups of 4 blocks. 4608-wide rows: slices of
    // 64, 64 and 16 blocks.
    void tableLayoutFormula() {
        std::vector<int> seen(32, 0);
        for (int r = 0; r < 32; ++r) seen[static_cast<size_t>(16 * ((r % 8) / 4) + 4 * (r / 8) + r % 4)]++;
        QCOMPARE(std::count(seen.begin(), seen.end(), 1), 32);  // R32L's pos is a permutation of the 32 bytes
        std::mt19937 rng(11);
        const int64_t n_in = 4608, n_out = 96, nb = n_in / 32;
        Quantized q = make(TensorType::Q1_0, n_in, n_out, rng, true);
        const size_t row_bytes = row_nbytes(TensorType::Q1_0, n_in);
        for (const int rows : {16, 32}) {
            const std::vector<uint8_t>& form = rows == 16 ? q.r16l : q.r32l;
            QVERIFY(!form.empty());
            const int64_t n_rb = n_out / rows;
            for (int64_t o = 0; o < n_out; ++o)
                for (int64_t b = 0; b < nb; ++b) {
                    const int64_t rb = o / rows, r = o % rows, L = b / 64, wL = std::min<int64_t>(64, nb - 64 * L);
                    const int64_t vec = 64 * L * n_rb + rb * wL + (b - 64 * L);
                    uint32_t w32;
                    std::memcpy(&w32, q.native.data() + row_bytes * static_cast<size_t>(o) + (b / 4) * 18 + 2 + 4 * (b % 4), 4);
                    for (int j = 0; j < 4; ++j) {
                        const uint8_t want = static_cast<uint8_t>(((w32 >> (4 * j)) & 0xF) | (((w32 >> (4 * j + 16)) & 0xF) << 4));
                        const int64_t at = rows == 16 ? 4 * r + j : 32 * j + 16 * ((r % 8) / 4) + 4 * (r / 8) + r % 4;
                        QCOMPARE(form[static_cast<size_t>(vec * 4 * rows + at)], want);
                    }
                    if (b % 4 == 0) {
                        const size_t at = static_cast<size_t>(n_rb * nb * 4 * rows + (vec / 4 * rows + r) * 2);
                        QCOMPARE(std::memcmp(form.data() + at, q.native.data() + row_bytes * static_cast<size_t>(o) + (b / 4) * 18, 2), 0);
                    }
                }
        }
    }

    // R32T's documented placement (repack.h), from the formula: unit (rb, b) of 2112 bytes at index
    // 4L·n_rb + rb·wL + (b - 4L) for slice L of width wL = min(4, nb - 4L); its byte 32m + pos(r) is
    // native qs byte m of block b of row 32rb + r; the 32 fp16 scales at 2048. 1280-wide rows: slices of
    // 4 and 1 blocks; raw bytes (code 3 too).
    void r32tLayoutFormula() {
        std::mt19937 rng(14);
        const int64_t n_in = 1280, n_out = 64, nb = n_in / 256, n_rb = n_out / 32;
        Quantized q = make(TensorType::TQ2_0, n_in, n_out, rng, true);
        QVERIFY(!q.r32t.empty());
        const size_t row_bytes = row_nbytes(TensorType::TQ2_0, n_in);
        for (int64_t o = 0; o < n_out; ++o)
            for (int64_t b = 0; b < nb; ++b) {
                const int64_t rb = o / 32, r = o % 32, L = b / 4, wL = std::min<int64_t>(4, nb - 4 * L);
                const int64_t unit = (4 * L * n_rb + rb * wL + (b - 4 * L)) * 2112;
                const int64_t pos = 16 * ((r % 8) / 4) + 4 * (r / 8) + r % 4;
                const uint8_t* blk = q.native.data() + row_bytes * static_cast<size_t>(o) + 66 * b;
                for (int m = 0; m < 64; ++m) QCOMPARE(q.r32t[static_cast<size_t>(unit + 32 * m + pos)], blk[m]);
                QCOMPARE(std::memcmp(q.r32t.data() + unit + 2048 + 2 * r, blk + 64, 2), 0);
            }
    }

    void kernelsMatchReference_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<qlonglong>("n_in");
        QTest::addColumn<qlonglong>("n_out");
        QTest::addColumn<qlonglong>("n_tok");
        QTest::addColumn<int>("threads");
        QTest::addColumn<bool>("raw");
        int i = 0;
        // One row, named "<type or layout form>_<n_in>x<n_out>_t<n_tok>_th<threads>[_raw]_<i>".
        auto add = [&](const char* form, TensorType t, int64_t n_in, int64_t n_out, int64_t n_tok, int th, bool raw) {
            QTest::newRow(qPrintable(QString("%1_%2x%3_t%4_th%5%6_%7")
                                         .arg(form)
                                         .arg(n_in)
                                         .arg(n_out)
                                         .arg(n_tok)
                                         .arg(th)
                                         .arg(raw ? "_raw" : "")
                                         .arg(i++)))
                << static_cast<int>(t) << qlonglong(n_in) << qlonglong(n_out) << qlonglong(n_tok) << th << raw;
        };
        const struct {
            TensorType t;
            int64_t n_in;
        } shapes[] = {{TensorType::Q1_0, 512}, {TensorType::Q1_0, 1536}, {TensorType::Q2_0, 512}, {TensorType::Q2_0, 1024},
                      {TensorType::TQ2_0, 256}, {TensorType::TQ2_0, 768}, {TensorType::Q1_0, 384},
                      {TensorType::Q1_0, 2560}, {TensorType::Q2_0, 2560}};  // 2560: the prompt path in two K passes (4 + 1 chunks)
        for (const auto& s : shapes)
            for (int64_t n_out : {1, 17, 40})
                for (int64_t n_tok : {1, 3, 4, 9})
                    for (int th : {1, 2, 3}) {
                        if ((n_out + n_tok + th) % 2 && n_tok > 1) continue;  // keep the matrix small
                        add(tensor_type_name(s.t), s.t, s.n_in, n_out, n_tok, th, false);
                    }
        // Q1_0 / Q2_0 R16 prompt batches (the kernels themselves, below; where AMX is granted Q2_0 takes its
        // tiles: one and two token tiles of 16, partly filled).
        for (TensorType t : {TensorType::Q1_0, TensorType::Q2_0})
            for (int64_t n_in : {512, 2560})
                for (int64_t n_out : {17, 40})
                    for (int64_t n_tok : {17, 33, 48})
                        for (int th : {1, 2, 3}) {
                            if ((n_out + n_tok + th) % 3) continue;  // keep the matrix small
                            add(tensor_type_name(t), t, n_in, n_out, n_tok, th, false);
                        }
        // Q1_0 / Q2_0 on random code bytes (Q2_0 code 3 included, which the quantizer never writes).
        for (TensorType t : {TensorType::Q1_0, TensorType::Q2_0})
            for (int64_t n_out : {1, 17})
                for (int64_t n_tok : {1, 5, 8, 13})
                    for (int th : {1, 2}) add(tensor_type_name(t), t, 1024, n_out, n_tok, th, true);
        // Q1_0 row counts that are multiples of 16 (Layout::R16L) and of 32 (R32L, AVX2): the table path
        // (1-16 tokens) and the per-block conversion to R16M (17+) on AVX-512 VBMI, or where AMX is granted
        // the AMX tiles (17, 33, 48, 70: one or two token tiles of 16, partly filled), quantized and raw
        // codes; 4608-wide rows take the table path in K slices (the last one partial). AVX2 runs every
        // count through its tables, 70 tokens in two chunks (64 + 6), odd counts ending on one token.
        for (int64_t n_in : {512, 1536, 4608})
            for (int raw = 0; raw < 2; ++raw)
                for (int64_t n_out : {16, 32, 96})
                    for (int64_t n_tok : {1, 2, 3, 4, 5, 9, 16, 17, 33, 48, 70})
                        for (int th : {1, 2, 3}) {
                            if ((n_out / 16 + n_tok + th + raw) % 3 && n_tok > 1) continue;  // keep the matrix small
                            add("Q1_0_table", TensorType::Q1_0, n_in, n_out, n_tok, th, raw != 0);
                        }
        // TQ2_0 rows long enough for R16T (chunks of 2048), quantized and raw codes, 1..17 tokens, and
        // where AMX is granted its tiles (17, 33, 48 tokens).
        for (int64_t n_in : {2048, 6144})
            for (int raw = 0; raw < 2; ++raw)
                for (int64_t n_out : {1, 17, 40})
                    for (int64_t n_tok : {1, 2, 3, 4, 5, 7, 8, 9, 12, 17, 33, 48})
                        for (int th : {1, 2, 3}) {
                            if ((n_out + n_tok + th + raw) % 3 && n_tok > 1) continue;  // keep the matrix small
                            add("TQ2_0_r16t", TensorType::TQ2_0, n_in, n_out, n_tok, th, raw != 0);
                        }
        // TQ2_0 row counts that are multiples of 32 (Layout::R32T, AVX2): the table kernel (1-2 tokens) and
        // the per-block transpose to native rows (3+), quantized and raw codes (code 3 too); 1280-wide rows
        // end on a one-block slice.
        for (int64_t n_in : {256, 1280, 2048})
            for (int raw = 0; raw < 2; ++raw)
                for (int64_t n_out : {32, 96})
                    for (int64_t n_tok : {1, 2, 3, 5, 9})
                        for (int th : {1, 2, 3}) {
                            if ((n_out / 32 + n_tok + th + raw) % 3 && n_tok > 2) continue;  // keep the matrix small
                            add("TQ2_0_r32t", TensorType::TQ2_0, n_in, n_out, n_tok, th, raw != 0);
                        }
        // Second kernel set: partial 4-block groups (Q8_0/Q4_0), odd block counts (PQ2_0/I2_S pairs), vector
        // tails (F16/BF16), token counts around both tile sizes up to 17.
        const struct {
            TensorType t;
            int64_t n_in;
        } ext[] = {{TensorType::TQ1_0, 256},  {TensorType::TQ1_0, 768}, {TensorType::Q8_0, 96},  {TensorType::Q8_0, 416},
                   {TensorType::Q8_0, 512},   {TensorType::Q4_0, 160},  {TensorType::Q4_0, 544}, {TensorType::Q4_0, 32},
                   {TensorType::PQ2_0, 128},  {TensorType::PQ2_0, 640}, {TensorType::I2_S, 128}, {TensorType::I2_S, 640},
                   {TensorType::I2_S, 1024},  {TensorType::F16, 200},   {TensorType::F16, 37},   {TensorType::BF16, 72},
                   {TensorType::PTQ1_0, 128}, {TensorType::PTQ1_0, 640}};
        for (const auto& s : ext)
            for (int raw = 0; raw < 2; ++raw) {
                if (raw && (s.t == TensorType::F16 || s.t == TensorType::BF16)) continue;
                for (int64_t n_out : {1, 17, 40})
                    for (int64_t n_tok : {1, 3, 8, 9, 17})
                        for (int th : {1, 2, 3}) {
                            if ((n_out + n_tok + th + raw) % 3 && n_tok > 1) continue;  // keep the matrix small
                            add(tensor_type_name(s.t), s.t, s.n_in, n_out, n_tok, th, raw != 0);
                        }
            }
    }

    void kernelsMatchReference() {
        QFETCH(int, type);
        QFETCH(qlonglong, n_in);
        QFETCH(qlonglong, n_out);
        QFETCH(qlonglong, n_tok);
        QFETCH(int, threads);
        QFETCH(bool, raw);
        const auto t = static_cast<TensorType>(type);
        std::mt19937 rng(static_cast<unsigned>(n_in * 31 + n_out * 7 + n_tok * 3 + threads));
        Quantized q = make(t, n_in, n_out, rng, raw);
        std::vector<float> x(static_cast<size_t>(n_in * n_tok));
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (auto& v : x) v = nd(rng);
        cpu::ThreadPool pool(threads);
        cpu::Activations acts, acts_tables;  // the second with the R32L kernel's tables built by prepare
        acts.prepare(cpu::act_format(t), x.data(), n_tok, n_in, !q.r16t.empty());
        if (!q.r32l.empty()) acts_tables.prepare(cpu::act_format(t), x.data(), n_tok, n_in, false, &pool, true);
        // float64 reference and its error scale.
        std::vector<double> ref, mag, ref128, mag128;
        test::reference_products(q, acts, n_in, n_out, ref, mag);
        // Where the AMX kernels run, Q8_0 batches of more than 16 rows also carry the per-128 form that the
        // Q1_0 AMX tiles read: each value within half a step of the float, the step max|x| / 127 of its 128.
        if (acts.x128(0) != nullptr) {
            QVERIFY(cpu::amx_kernels_enabled() && n_tok > 16 && n_in % 128 == 0);
            for (int64_t t = 0; t < n_tok; ++t)
                for (int64_t g = 0; g < n_in / 128; ++g) {
                    float amax = 0.0f;
                    for (int i = 0; i < 128; ++i) amax = std::max(amax, std::fabs(x[static_cast<size_t>(t * n_in + 128 * g + i)]));
                    const float d = acts.x128_scales(t)[g];
                    QVERIFY(std::fabs(d - amax / 127.0f) <= 1e-6f * amax);
                    for (int i = 0; i < 128; ++i)
                        QVERIFY(std::fabs(x[static_cast<size_t>(t * n_in + 128 * g + i)] - d * acts.x128(t)[128 * g + i]) <= 0.5001f * d);
                }
            test::reference_products(q, acts, n_in, n_out, ref128, mag128, true);
        }
        for (cpu::Isa isa : isas()) {
            cpu::set_isa_override(isa);
            for (int layout = 0; layout < 7; ++layout) {
                const std::vector<uint8_t>& bytes = layout == 0   ? q.native
                                                    : layout == 1 ? q.r16
                                                    : layout == 2 ? q.r16m
                                                    : layout == 3 ? q.r16t
                                                    : layout == 4 ? q.r16l
                                                    : layout == 5 ? q.r32l
                                                                  : q.r32t;
                if (bytes.empty()) continue;
                const cpu::Layout lay = layout == 0   ? cpu::Layout::Native
                                        : layout == 1 ? cpu::Layout::R16
                                        : layout == 2 ? cpu::Layout::R16M
                                        : layout == 3 ? cpu::Layout::R16T
                                        : layout == 4 ? cpu::Layout::R16L
                                        : layout == 5 ? cpu::Layout::R32L
                                                      : cpu::Layout::R32T;
                const cpu::Weight w{t, bytes.data(), n_in, n_out, lay};
                std::vector<float> y(ref.size(), std::nanf(""));
                // matmul_prepared may hand prefill (n_tok >= 16) to oneDNN, whose bf16 products are outside
                // this bound (test_onednn_gemm checks it); the kernel itself is also called directly below.
                if (n_tok < 16) {
                    cpu::matmul_prepared(w, acts, y.data(), pool);
                    QVERIFY(check(y, ref, mag, isa, layout, "matmul"));
                }
                // Second kernel set: the SIMD kernel must exist on this ISA (no silent scalar fallback);
                // run it on uneven row ranges (not multiples of the 16-row block).
                const bool ext = t == TensorType::TQ1_0 || t == TensorType::Q8_0 || t == TensorType::Q4_0 ||
                                 t == TensorType::PQ2_0 || t == TensorType::I2_S || t == TensorType::F16 ||
                                 t == TensorType::BF16 || t == TensorType::PTQ1_0;
                // The R16T kernel exists on AVX-512 (below it the weight is unpacked row by row, checked above).
                const bool r16t = lay == cpu::Layout::R16T && isa == cpu::Isa::Avx512;
                // The R16L kernel exists on AVX-512 with VBMI, the R32L and R32T ones on AVX2 (else the weight is
                // unpacked row by row).
                const bool r16l = lay == cpu::Layout::R16L && isa == cpu::Isa::Avx512 && cpu::has_avx512_vbmi();
                const bool r32l = lay == cpu::Layout::R32L && isa == cpu::Isa::Avx2;
                const bool r32t = lay == cpu::Layout::R32T && isa == cpu::Isa::Avx2;
                // R16 (Q1_0, Q2_0) has kernels on both SIMD families; Q2_0's prompt batches take AMX tiles.
                const bool r16 = lay == cpu::Layout::R16;
                const bool q2_amx = r16 && t == TensorType::Q2_0 && isa == cpu::Isa::Avx512;
                if (isa == cpu::Isa::Scalar || !(ext || r16t || r16l || r32l || r32t || r16)) continue;
                const cpu::detail::GemmFn fn = cpu::detail::find_kernel(w, isa);
                QVERIFY2(fn != nullptr, cpu::isa_name(isa));
                // R32L: with the kernel's own tables and with those prepare built (the same quantized rows).
                // R16L and R16T where AMX is granted: with the AMX prompt tiles and without.
                for (const bool amx : {true, false}) {
                    if (!amx && !((r16l || r16t || q2_amx) && cpu::amx_granted())) continue;
                    cpu::set_amx_kernels(amx);
                    for (const cpu::Activations* in : {&acts, &acts_tables}) {
                        if (in == &acts_tables && !r32l) continue;
                        QCOMPARE(in->q1_tables(0) != nullptr, in == &acts_tables);
                        std::fill(y.begin(), y.end(), std::nanf(""));
                        const int64_t cut = n_out / 3 + 1;
                        fn(w, *in, 0, std::min<int64_t>(cut, n_out), y.data());
                        if (cut < n_out) fn(w, *in, cut, n_out, y.data());
                        // The Q1_0 and Q2_0 AMX tiles' input.
                        const bool on_x128 = amx && (r16l || q2_amx) && cpu::amx_granted() && acts.x128(0) != nullptr;
                        QVERIFY(check(y, on_x128 ? ref128 : ref, on_x128 ? mag128 : mag, isa, layout,
                                      in != &acts ? "kernel, prepared tables" : amx ? "kernel" : "kernel, AMX off"));
                    }
                }
                cpu::set_amx_kernels(true);
            }
        }
    }

    // The R32L kernel's integer activation scales (kernels_avx2_table.cpp) on activations whose blocks
    // differ by up to 1000× inside a 128-element group (so the quantizer rounds the quiet blocks' scales
    // onto the group's unit) and all-zero blocks: still within float summation error of the float64
    // reference, with the kernel's own tables and with prepared ones, on 1 / 2 / 5 tokens.
    void r32lQuietBlocks() {
        if (cpu::detected_isa() < cpu::Isa::Avx2) QSKIP("no AVX2 on this CPU");
        std::mt19937 rng(23);
        const int64_t n_in = 1536, n_out = 64;
        Quantized q = make(TensorType::Q1_0, n_in, n_out, rng);
        QVERIFY(!q.r32l.empty());
        const cpu::Weight w{TensorType::Q1_0, q.r32l.data(), n_in, n_out, cpu::Layout::R32L};
        cpu::set_isa_override(cpu::Isa::Avx2);
        const cpu::detail::GemmFn fn = cpu::detail::find_kernel(w, cpu::Isa::Avx2);
        QVERIFY(fn != nullptr);
        const float amp[8] = {1, 1.0f / 20, 1.0f / 300, 0, 2, 1.0f / 1000, 1, 1.0f / 16.5f};
        for (int64_t n_tok : {1, 2, 5}) {
            std::vector<float> x(static_cast<size_t>(n_tok * n_in));
            std::normal_distribution<float> nd(0.0f, 1.0f);
            for (int64_t i = 0; i < n_tok * n_in; ++i) x[static_cast<size_t>(i)] = nd(rng) * amp[(i / 32 + i / n_in) % 8];
            cpu::ThreadPool pool(2);
            cpu::Activations own, prepared;
            own.prepare(cpu::ActFormat::Q8_0, x.data(), n_tok, n_in);
            prepared.prepare(cpu::ActFormat::Q8_0, x.data(), n_tok, n_in, false, &pool, true);
            std::vector<double> ref, mag;
            test::reference_products(q, own, n_in, n_out, ref, mag);
            for (const cpu::Activations* in : {&own, &prepared}) {
                std::vector<float> y(ref.size(), std::nanf(""));
                fn(w, *in, 0, n_out, y.data());
                QVERIFY(check(y, ref, mag, cpu::Isa::Avx2, 5, in == &own ? "quiet blocks" : "quiet blocks, prepared tables"));
            }
        }
    }

    // matmul_prepared_many (q/k/v, gate/up in one pool job) gives each weight exactly what
    // matmul_prepared gives it alone (same kernels, same rows), for decode-sized batches, weights whose
    // row counts are not multiples of the grain, mixed layouts, and a weight without a SIMD kernel.
    void matmulManyEqualsSingle() {
        std::mt19937 rng(99);
        for (cpu::Isa isa : isas()) {
            cpu::set_isa_override(isa);
            for (int threads : {1, 2, 3}) {
                cpu::ThreadPool pool(threads);
                for (int64_t n_tok : {1, 3}) {
                    Quantized a = make(TensorType::Q1_0, 1024, 37, rng), b = make(TensorType::Q1_0, 1024, 300, rng),
                              c = make(TensorType::Q1_0, 1024, 16, rng), d = make(TensorType::Q1_0, 1024, 304, rng),
                              e = make(TensorType::Q1_0, 1024, 352, rng);
                    const cpu::Weight ws[5] = {{TensorType::Q1_0, a.r16.data(), 1024, 37, cpu::Layout::R16},
                                               {TensorType::Q1_0, b.r16m.data(), 1024, 300, cpu::Layout::R16M},
                                               {TensorType::Q1_0, c.native.data(), 1024, 16, cpu::Layout::Native},
                                               {TensorType::Q1_0, d.r16l.data(), 1024, 304, cpu::Layout::R16L},
                                               {TensorType::Q1_0, e.r32l.data(), 1024, 352, cpu::Layout::R32L}};
                    std::vector<float> x(static_cast<size_t>(1024 * n_tok));
                    std::normal_distribution<float> nd;
                    for (auto& v : x) v = nd(rng);
                    cpu::Activations acts;
                    acts.prepare(cpu::ActFormat::Q8_0, x.data(), n_tok, 1024);
                    std::vector<std::vector<float>> single(5), many(5);
                    float* ys[5];
                    const cpu::Weight* wp[5];
                    for (int i = 0; i < 5; ++i) {
                        single[static_cast<size_t>(i)].assign(static_cast<size_t>(ws[i].n_out * n_tok), 0.0f);
                        many[static_cast<size_t>(i)].assign(static_cast<size_t>(ws[i].n_out * n_tok), std::nanf(""));
                        cpu::matmul_prepared(ws[i], acts, single[static_cast<size_t>(i)].data(), pool);
                        ys[i] = many[static_cast<size_t>(i)].data();
                        wp[i] = &ws[i];
                    }
                    cpu::matmul_prepared_many(wp, ys, 5, acts, pool);
                    for (int i = 0; i < 5; ++i) QVERIFY(single[static_cast<size_t>(i)] == many[static_cast<size_t>(i)]);
                    cpu::matmul_prepared_many(wp, ys, 2, acts, pool);  // both with SIMD kernels: the fused job
                    for (int i = 0; i < 2; ++i) QVERIFY(single[static_cast<size_t>(i)] == many[static_cast<size_t>(i)]);
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
