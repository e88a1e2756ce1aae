// bonsai-bench-decode: how fast the CPU kernels stream a whole model's weights in one-token (decode)
// matmuls, against the machine's memory read bandwidth measured in the same run. Not a test.
//
//   bonsai-bench-decode [-t THREADS] [-p PASSES] [--types Q1_0,TQ2_0] [--layers 28] [--no-lm-head]
//
// Why: a decode step reads every weight once, but as ~6 matmuls per layer of 0.4-2.4 MB each (Bonsai-1.7B),
// each split into grains that start cold streams, plus the 44-58 MB LM head. bonsai-cli bench adds
// attention, norms and the rest of the step; this tool separates the matmuls' part. With `--layers 1
// --no-lm-head` the weights (7-14 MB) stay in L3, which gives the kernels' compute rate on the same
// sequence: where it is not well above the read bandwidth, decode is compute-bound, not memory-bound.
// One thread's numbers are steady on a shared machine; two threads' move with the neighbours' load.
//
// Per pass, what the forward pass does for one token (model/layers.cpp): per layer the activations of a
// 2048-wide input prepared once for q|k|v (one matmul_prepared_many job), the output projection, gate|up
// (one job), the down projection over a 6144-wide input; then the LM head. Weights are random blocks in the
// layout the loader gives them (cpu::preferred_layout). Prints, per type, the bytes per pass and the
// passes' GB/s (mean ± sd, median, best) and the median as a share of the read bandwidth.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/repack.h"
#include "bonsai/memory_bandwidth.h"
#include "bonsai/tensor_type.h"
#include "bench_util.h"

using namespace bonsai;

namespace {

// Bonsai-1.7B (qwen3): hidden 2048, 16 query heads and 8 KV heads of 128, FFN 6144, vocabulary 151,936.
constexpr int64_t kHidden = 2048, kKv = 1024, kFfn = 6144, kVocab = 151936;

struct Layer {
    test::OwnedWeight q, k, v, o, gate, up, down;
};

// Prepares the activations of x as linear_shared (model/layers.cpp) does for these weights and runs them
// as one job.
void shared_input(const cpu::Weight* const* ws, float* const* ys, int n, const float* x, cpu::ThreadPool& pool,
                  cpu::Activations& acts) {
    bool r16t = false, q1t = false;
    for (int i = 0; i < n; ++i) {
        r16t = r16t || ws[i]->layout == cpu::Layout::R16T;
        q1t = q1t || ws[i]->layout == cpu::Layout::R32L;
    }
    acts.prepare(cpu::act_format(ws[0]->type), x, 1, ws[0]->n_in, r16t, &pool, q1t);
    cpu::matmul_prepared_many(ws, ys, n, acts, pool);
}

}  // namespace

int main(int argc, char** argv) {
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    int passes = 40, n_layers = 28;
    bool lm_head = true;
    std::vector<std::string> types{"Q1_0", "Q2_0", "TQ2_0"};
    for (test::ArgCursor c{argc, argv}; c.next();) {
        const std::string a = c.flag();
        if (a == "-t") threads = std::max(1, std::atoi(c.value().c_str()));
        else if (a == "-p") passes = std::max(2, std::atoi(c.value().c_str()));
        else if (a == "--types") types = test::split_list(c.value());
        else if (a == "--layers") n_layers = std::max(1, std::atoi(c.value().c_str()));
        else if (a == "--no-lm-head") lm_head = false;

        else {
            std::fprintf(stderr, "usage: %s [-t N] [-p PASSES] [--types A,B] [--layers N] [--no-lm-head]\n", argv[0]);
            return 2;
        }
    }
    std::printf("# own kernels: %s; threads %d; %d layers of Bonsai-1.7B%s; %d passes\n", cpu::isa_name(cpu::active_isa()),
                threads, n_layers, lm_head ? " + LM head" : "", passes);
    std::printf("%-6s %9s %10s %9s %9s %11s %10s\n", "type", "MB/pass", "GB/s mean", "sd", "median", "best", "% of bw");
    std::fflush(stdout);
    cpu::ThreadPool pool(threads);
    std::mt19937 rng(1234);
    for (const std::string& tn : types) {
        const TensorType type = test::type_or_exit(tn);
        std::vector<Layer> layers(static_cast<size_t>(n_layers));
        double bytes = 0;
        for (Layer& l : layers) {
            l.q = test::loader_weight(type, kHidden, kHidden, rng);
            l.k = test::loader_weight(type, kHidden, kKv, rng);
            l.v = test::loader_weight(type, kHidden, kKv, rng);
            l.o = test::loader_weight(type, kHidden, kHidden, rng);
            l.gate = test::loader_weight(type, kHidden, kFfn, rng);
            l.up = test::loader_weight(type, kHidden, kFfn, rng);
            l.down = test::loader_weight(type, kFfn, kHidden, rng);
            for (const test::OwnedWeight* w : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) bytes += static_cast<double>(w->bytes.size());
        }
        test::OwnedWeight head;
        if (lm_head) {
            head = test::loader_weight(type, kHidden, kVocab, rng);
            bytes += static_cast<double>(head.bytes.size());
        }
        std::normal_distribution<float> nd(0.0f, 1.0f);
        std::vector<float> x(kFfn), y1(kFfn), y2(kFfn), y3(kFfn), logits(kVocab);
        for (float& v : x) v = nd(rng);
        cpu::Activations acts;
        auto pass = [&] {
            for (Layer& l : layers) {
                const cpu::Weight* qkv[3] = {&l.q.w, &l.k.w, &l.v.w};
                float* qkv_y[3] = {y1.data(), y2.data(), y3.data()};
                shared_input(qkv, qkv_y, 3, x.data(), pool, acts);
                const cpu::Weight* o[1] = {&l.o.w};
                float* o_y[1] = {y1.data()};
                shared_input(o, o_y, 1, x.data(), pool, acts);
                const cpu::Weight* gu[2] = {&l.gate.w, &l.up.w};
                float* gu_y[2] = {y1.data(), y2.data()};
                shared_input(gu, gu_y, 2, x.data(), pool, acts);
                const cpu::Weight* down[1] = {&l.down.w};
                float* down_y[1] = {y1.data()};
                shared_input(down, down_y, 1, x.data(), pool, acts);
            }
            if (lm_head) {
                const cpu::Weight* h[1] = {&head.w};
                float* h_y[1] = {logits.data()};
                shared_input(h, h_y, 1, x.data(), pool, acts);
            }
        };
        pass();  // warm-up: thread-local buffers, first touches
        // The bandwidth before and after the passes, as bonsai-cli bench measures it around its decode.
        const double bw0 = measure_read_bandwidth(threads);
        std::vector<double> gbs;
        for (int p = 0; p < passes; ++p) {
            const auto t0 = std::chrono::steady_clock::now();
            pass();
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            gbs.push_back(bytes / s * 1e-9);
        }
        const double bw = 0.5 * (bw0 + measure_read_bandwidth(threads));
        double mean = 0, var = 0;
        for (double g : gbs) mean += g / static_cast<double>(gbs.size());
        for (double g : gbs) var += (g - mean) * (g - mean) / static_cast<double>(gbs.size() - 1);
        std::vector<double> sorted = gbs;
        std::sort(sorted.begin(), sorted.end());
        const double median = sorted[sorted.size() / 2];
        std::printf("%-6s %9.1f %10.2f %9.2f %9.2f %11.2f %9.1f%%  (read bandwidth %.2f GB/s)\n", tn.c_str(), bytes * 1e-6,
                    mean, std::sqrt(var), median, sorted.back(), 100.0 * median / bw, bw);
        std::fflush(stdout);
    }
    return 0;
}
