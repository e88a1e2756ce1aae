// bonsai-cli bench -m MODEL [-p 512] [-n 128] [-d 0] [-t T] [-r REPS] [--backend auto|cpu|vulkan] [--json]
// llama-bench style throughput: prompt processing of -p random tokens in one batch (pp) and decode of
// -n tokens one at a time (tg), mean ± sd over -r repetitions after a warm-up. Both start from an empty
// context, or with -d D after D random tokens already in the KV cache (evaluated untimed, llama-bench's
// -d): a chat's later turns decode against a long cache, and attention then reads as many bytes per token
// as the weights of a small model.
// In the same run it measures the machine's memory read bandwidth (bonsai::measure_read_bandwidth: a
// 1 GiB sum in 2 MiB pages with vector loads and -t threads, best of 5) and reports decode against the
// roofline bandwidth ÷ bytes read per decoded token (every tensor of the file once — the tied embedding
// is read in full as the output matrix, an untied one only for the token's row — plus the KV cache bytes
// at the mean decode position). The bandwidth is measured before the first decode repetition and after
// each one, and every repetition is compared with the mean of the two measurements around it: on a
// shared VM the host's bandwidth moved between ~45 and ~80 GB/s within minutes (docs/performance.md),
// and one measurement made the percentage follow the host rather than the code. The spread of the
// measurements is reported, with a note when it exceeds 20 %.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bonsai/cpu_kernels.h"
#include "bonsai/gguf.h"
#include "bonsai/memory_bandwidth.h"
#include "bonsai/model.h"
#include "bonsai/session.h"
#include "bonsai/vulkan_backend.h"
#include "command.h"
#include "model_options.h"

namespace {

using namespace bonsai;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The device's roofline bandwidth: GB/s (read + write) of the faster of a shader copy and the driver's
// copy between two device-local buffers of up to 1 GiB (VulkanBackend::measure_copy_bandwidth; lavapipe:
// 128 MiB, its storage buffer range).
double device_bandwidth() { return VulkanBackend().measure_copy_bandwidth(size_t(1) << 30).best(); }

struct Stat {
    double mean = 0, sd = 0;
};
Stat stat(const std::vector<double>& v) {
    Stat s;
    for (double x : v) s.mean += x;
    s.mean /= static_cast<double>(v.size());
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0.0;
    return s;
}

int run_bench(cli::Args& args) {
    cli::ModelOptions mo = cli::parse_model_options(args);
    const int64_t n_prompt = args.integer({"-p", "--n-prompt"}).value_or(512);
    const int64_t n_gen = args.integer({"-n", "--n-gen"}).value_or(128);
    const int64_t reps = args.integer({"-r", "--repetitions"}).value_or(3);
    const int64_t depth = args.integer({"-d", "--depth"}).value_or(0);
    const bool json = args.flag({"--json"});
    if (n_prompt < 0 || n_gen < 0 || n_prompt + n_gen == 0) throw cli::UsageError("-p and -n must be >= 0, not both 0");
    if (reps < 1 || reps > 100) throw cli::UsageError("-r must be between 1 and 100");
    if (depth < 0 || depth > (int64_t(1) << 20)) throw cli::UsageError("-d must be between 0 and 1048576");
    if (!args.positionals().empty()) throw cli::UsageError("unexpected argument");
    auto model = Model::load(mo.path, mo.params);
    const HParams& hp = model->hparams();
    const int threads = model->n_threads();
    const int64_t V = model->n_vocab();
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(V - 1));
    std::vector<int32_t> prompt(static_cast<size_t>(n_prompt)), context(static_cast<size_t>(depth));
    for (auto& t : prompt) t = tok(rng);
    for (auto& t : context) t = tok(rng);

    SessionParams sp;
    sp.n_ctx = depth + std::max<int64_t>(n_prompt, n_gen + 1) + 8;
    sp.n_batch = std::max<int64_t>({n_prompt, std::min<int64_t>(depth, 512), 1});
    // A session holding exactly the -d context tokens (untimed). The context is computed once: later
    // calls cut the cache back to it (evaluate() keeps the common prefix, recomputing one token).
    std::unique_ptr<Session> held;
    auto fresh = [&]() -> Session& {
        if (depth == 0 || !held) {
            held = std::make_unique<Session>(*model, sp);
            if (!context.empty()) held->append(context);
        } else {
            held->evaluate(context);
        }
        return *held;
    };
    // Warm-up: page in the weights, size the scratch buffers, and run every code path of the timed
    // runs once (the whole prompt: a GPU creates the pipelines of the batch shapes on first use, which
    // made the first of three 8B pp512 runs on an H100 5x slower than the others).
    {
        Session& s = fresh();
        std::vector<int32_t> w(prompt.begin(), prompt.end());
        if (w.empty()) w.push_back(1);
        s.append(w);  // after the context (evaluate() would replace it)
        for (int i = 0; i < 2; ++i) s.append(std::vector<int32_t>{tok(rng)});
    }
    const bool on_gpu = model->backend() == Backend::Vulkan;
    auto bandwidth = [&] { return on_gpu ? device_bandwidth() : measure_read_bandwidth(threads); };
    std::vector<double> pp, tg, bws{bandwidth()};  // bws[r], bws[r + 1]: around decode repetition r
    for (int64_t r = 0; r < reps; ++r) {
        if (n_prompt > 0) {
            Session& s = fresh();
            const auto t0 = Clock::now();
            s.append(prompt);
            pp.push_back(static_cast<double>(n_prompt) / seconds_since(t0));
        }
        if (n_gen > 0) {
            Session& s = fresh();
            std::vector<int32_t> one{tok(rng)};
            const auto t0 = Clock::now();
            s.append(one);
            for (int64_t i = 1; i < n_gen; ++i) s.append(std::vector<int32_t>{tok(rng)});
            tg.push_back(static_cast<double>(n_gen) / seconds_since(t0));
            bws.push_back(bandwidth());
        }
    }
    // Bytes read per decoded token (weights and the KV rows attended to).
    const double bytes = model->decode_bytes_per_token(depth, n_gen);
    const double bw = stat(bws).mean;
    const double bw_min = *std::min_element(bws.begin(), bws.end()), bw_max = *std::max_element(bws.begin(), bws.end());
    const double roofline = bw * 1e9 / bytes;
    // Each decode repetition against the roofline of the bandwidth measured around it.
    std::vector<double> pct;
    for (size_t r = 0; r < tg.size(); ++r) pct.push_back(100.0 * tg[r] * bytes / (0.5 * (bws[r] + bws[r + 1]) * 1e9));
    const Stat sp_ = pp.empty() ? Stat{} : stat(pp), st = tg.empty() ? Stat{} : stat(tg), spct = pct.empty() ? Stat{} : stat(pct);
    if (json) {
        nlohmann::json j{{"model", mo.path},
                         {"threads", threads},
                         {"backend", backend_name(model->backend())},
                         {"n_prompt", n_prompt},
                         {"n_gen", n_gen},
                         {"depth", depth},
                         {"repetitions", reps},
                         {"pp_tok_s", sp_.mean},
                         {"pp_tok_s_sd", sp_.sd},
                         {"tg_tok_s", st.mean},
                         {"tg_tok_s_sd", st.sd},
                         {"bandwidth_gb_s", bw},
                         {"bandwidth_min_gb_s", bw_min},
                         {"bandwidth_max_gb_s", bw_max},
                         {"bandwidth_measurements", bws.size()},
                         {"bandwidth_kind", on_gpu ? "device copy (read + write)" : "host memory read"},
                         {"bytes_per_token", bytes},
                         {"roofline_tok_s", roofline},
                         {"tg_roofline_pct", spct.mean},
                         {"tg_roofline_pct_sd", spct.sd}};
        if (!on_gpu) j["cpu_kernels"] = cpu_kernels_summary();
        std::cout << j.dump(2) << "\n";
    } else {
        std::printf("model %s (%s, %d threads, backend %s)\n", mo.path.c_str(), hp.arch.c_str(), threads,
                    backend_name(model->backend()));
        if (!on_gpu) std::printf("cpu kernels: %s\n", cpu_kernels_summary().c_str());
        const std::string at = depth > 0 ? " @ d" + std::to_string(depth) : "";
        if (!pp.empty())
            std::printf("pp%lld%s: %8.2f ± %.2f tok/s\n", static_cast<long long>(n_prompt), at.c_str(), sp_.mean, sp_.sd);
        if (!tg.empty())
            std::printf("tg%lld%s: %8.2f ± %.2f tok/s\n", static_cast<long long>(n_gen), at.c_str(), st.mean, st.sd);
        std::printf("%s bandwidth: %.2f GB/s (%.2f-%.2f over %zu measurements around the decode runs); bytes per "
                    "decoded token: %.1f MB\n",
                    on_gpu ? "device copy (read + write)" : "memory read", bw, bw_min, bw_max, bws.size(), bytes / 1e6);
        if (!tg.empty())
            std::printf("decode roofline: %.2f tok/s; tg = %.1f ± %.1f%% of the roofline measured around each run\n", roofline,
                        spct.mean, spct.sd);
        if (bw_max > 1.2 * bw_min)
            std::printf("note: the bandwidth changed by %.0f%% during the run (a shared host?): compare percentages, "
                        "not tok/s, between runs\n",
                        100.0 * (bw_max / bw_min - 1.0));
    }
    return 0;
}

const cli::Registration reg{"bench", "-m MODEL [-p 512] [-n 128] [-d DEPTH] [-t T] [-r REPS] [--backend B] [--json]  throughput vs memory roofline",
                            run_bench};

}  // namespace
