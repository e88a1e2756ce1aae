// bonsai-bench-prefill: prefill GEMM throughput of the own kernels (cpu::matmul with oneDNN off) against
// the oneDNN path (cpu::matmul with oneDNN forced on = bf16; onednn::gemm with Precision::F32), on
// Bonsai-1.7B-shaped matrices. Both include the activation quantization cpu::matmul does. Not a test.
//
//   bonsai-bench-prefill [-t THREADS] [-r REPS] [--types Q1_0,TQ2_0] [--tokens 64,512] [--no-lm-head] [--no-f32]
//
// Prints one row per type / shape / n_tok: best-of-REPS GFLOP/s (2·n_tok·n_in·n_out / time).
// Weights are random codes with small random scales, in the layout the model loader uses (Q1_0 / Q2_0
// repacked to R16 / R16M / R16L / R32L, TQ2_0 to R16T on AVX-512, as model/weights.cpp does; TQ1_0 native;
// BONSAI_CPU_Q1_LAYOUT=mask keeps Q1_0 on R16M).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/onednn_gemm.h"
#include "backend/cpu/repack.h"
#include "bonsai/tensor_type.h"
#include "bench_util.h"

using namespace bonsai;

namespace {

template <class F>
double best_seconds(int reps, F&& f) {
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    int reps = 3;
    bool lm_head = true, f32 = true;
    std::vector<std::pair<long long, long long>> custom_shapes;
    std::vector<std::string> types{"Q1_0", "Q2_0", "TQ2_0", "TQ1_0"};
    std::vector<int64_t> tokens{64, 512};
    for (test::ArgCursor c{argc, argv}; c.next();) {
        const std::string a = c.flag();
        if (a == "-t") threads = std::max(1, std::atoi(c.value().c_str()));
        else if (a == "-r") reps = std::max(1, std::atoi(c.value().c_str()));
        else if (a == "--types") types = test::split_list(c.value());
        else if (a == "--tokens") {
            tokens.clear();
            for (const auto& t : test::split_list(c.value())) tokens.push_back(std::max(1, std::atoi(t.c_str())));
        } else if (a == "--shapes") {
            // N_INxN_OUT,...: e.g. 2048x256 fits L2, which separates the kernel's compute from the memory.
            custom_shapes.clear();
            for (const auto& t : test::split_list(c.value())) {
                const auto x = t.find('x');
                const long long n_in = std::atoll(t.substr(0, x).c_str()),
                                n_out = x == std::string::npos ? 0 : std::atoll(t.substr(x + 1).c_str());
                if (n_in <= 0 || n_out <= 0 || n_in % 256 != 0 || n_out % 16 != 0) {
                    std::fprintf(stderr, "--shapes: %s is not N_INxN_OUT (N_IN a multiple of 256, N_OUT of 16)\n", t.c_str());
                    return 2;
                }
                custom_shapes.push_back({n_in, n_out});
            }
        } else if (a == "--no-lm-head") lm_head = false;
        else if (a == "--no-f32") f32 = false;
        else {
            std::fprintf(stderr, "usage: %s [-t N] [-r N] [--types A,B] [--tokens 64,512] [--shapes 2048x256,...] [--no-lm-head] [--no-f32]\n",
                         argv[0]);
            return 2;
        }
    }
    std::printf("# own kernels: %s; %s; threads %d, best of %d\n", cpu::isa_name(cpu::active_isa()),
                cpu::onednn::describe().c_str(), threads, reps);
    // A CPU without bf16 support in oneDNN (AVX2 only, e.g. Zen 3) has no bf16 primitive: that column
    // then reads 0.
    const bool bf16 = cpu::onednn::available(cpu::onednn::Precision::BF16);
    if (bf16)
        std::printf("# oneDNN impl (bf16, 64x2048x256): %s\n",
                    cpu::onednn::impl_name(64, 2048, 256, cpu::onednn::Precision::BF16).c_str());
    else
        std::printf("# oneDNN bf16: not available on this CPU\n");
    std::printf("%-6s %7s %7s %5s %12s %12s %12s %8s %9s\n", "type", "n_in", "n_out", "n_tok", "own GF/s", "dnnl-bf16",
                "dnnl-f32", "winner", "bf16-diff");
    std::fflush(stdout);
    struct Shape {
        int64_t n_in, n_out;
    };
    std::vector<Shape> shapes{{2048, 2048}, {2048, 6144}, {6144, 2048}};
    if (lm_head) shapes.push_back({2048, 151936});
    if (!custom_shapes.empty()) {
        shapes.clear();
        for (const auto& [n_in, n_out] : custom_shapes) shapes.push_back({n_in, n_out});
    }
    cpu::ThreadPool pool(threads);
    std::mt19937 rng(1234);
    for (const std::string& tn : types) {
        const TensorType type = test::type_or_exit(tn);
        for (const Shape& s : shapes) {
            const test::OwnedWeight ow = test::loader_weight(type, s.n_in, s.n_out, rng);
            const cpu::Weight& w = ow.w;
            for (int64_t n_tok : tokens) {
                std::vector<float> x(static_cast<size_t>(n_tok * s.n_in));
                std::normal_distribution<float> nd(0.0f, 1.0f);
                for (auto& v : x) v = nd(rng);
                std::vector<float> y(static_cast<size_t>(n_tok * s.n_out));
                cpu::Activations scratch;
                const double flop = 2.0 * static_cast<double>(n_tok) * static_cast<double>(s.n_in) * static_cast<double>(s.n_out);
                cpu::onednn::set_policy(cpu::onednn::Policy::Never);
                const double t_own = best_seconds(reps, [&] { cpu::matmul(w, x.data(), n_tok, y.data(), pool, scratch); });
                const std::vector<float> y_own = y;
                // oneDNN takes only some layouts (onednn::supports: not the AVX2 table forms R32L / R32T).
                const bool dnnl_ok = cpu::onednn::supports(w);
                double t_bf = 1e30;
                if (bf16 && dnnl_ok) {
                    cpu::onednn::set_policy(cpu::onednn::Policy::Always);
                    cpu::matmul(w, x.data(), n_tok, y.data(), pool, scratch);  // warm-up: primitive creation
                    t_bf = best_seconds(reps, [&] { cpu::matmul(w, x.data(), n_tok, y.data(), pool, scratch); });
                }
                // Sanity check, not a test: largest |oneDNN - own| relative to the largest |own| output.
                double dmax = 0, ymax = 0;
                for (size_t i = 0; i < y.size(); ++i) {
                    dmax = std::max(dmax, static_cast<double>(std::fabs(y[i] - y_own[i])));
                    ymax = std::max(ymax, static_cast<double>(std::fabs(y_own[i])));
                }
                double t_f32 = 1e30;
                if (f32 && dnnl_ok) {
                    cpu::onednn::set_policy(cpu::onednn::Policy::Never);
                    auto run = [&] {
                        scratch.prepare(cpu::act_format(w.type), x.data(), n_tok, w.n_in, w.layout == cpu::Layout::R16T);
                        cpu::onednn::gemm(w, scratch, y.data(), pool, cpu::onednn::Precision::F32);
                    };
                    run();
                    t_f32 = best_seconds(reps, run);
                }
                cpu::onednn::set_policy(cpu::onednn::Policy::Auto);
                const double g_own = flop / t_own * 1e-9, g_bf = flop / t_bf * 1e-9, g_f = flop / t_f32 * 1e-9;
                const char* win = g_own >= std::max(g_bf, g_f) ? "own" : g_bf >= g_f ? "bf16" : "f32";
                // The bf16 difference only where bf16 ran ("-" otherwise, not a perfect 0).
                char diff[32] = "-";
                if (t_bf < 1e30) std::snprintf(diff, sizeof diff, "%9.2e", ymax > 0 ? dmax / ymax : 0.0);
                std::printf("%-6s %7lld %7lld %5lld %12.1f %12.1f %12.1f %8s %9s\n", tn.c_str(), static_cast<long long>(s.n_in),
                            static_cast<long long>(s.n_out), static_cast<long long>(n_tok), g_own, g_bf, g_f, win, diff);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
