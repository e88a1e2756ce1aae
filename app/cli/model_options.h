#pragma once
// Flags shared by the model subcommands (run, chat, perplexity), in llama.cpp's spelling:
//   -m/--model MODEL  -t/--threads N  -c/--ctx-size N  --backend auto|cpu|vulkan
//   --temp T  --top-k K  --top-p P  --min-p P  --seed S  --repeat-penalty R
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "args.h"
#include "bonsai/model.h"
#include "bonsai/session.h"

namespace bonsai::cli {

struct ModelOptions {
    std::string path;
    ModelParams params;
    int64_t n_ctx = 4096;
    bool self_test = false;
};

inline ModelOptions parse_model_options(Args& args) {
    ModelOptions o;
    auto m = args.value({"-m", "--model"});
    if (!m) throw UsageError("missing -m MODEL");
    o.path = *m;
    if (auto t = args.integer({"-t", "--threads"})) {
        if (*t < 1 || *t > 1024) throw UsageError("-t must be between 1 and 1024");
        o.params.n_threads = static_cast<int>(*t);
    }
    if (auto c = args.integer({"-c", "--ctx-size"})) {
        if (*c < 0) throw UsageError("-c must be >= 0 (0 = the model's training context)");
        o.n_ctx = *c;
    }
    if (auto b = args.value({"--backend"})) {
        if (*b == "auto") o.params.backend = Backend::Auto;
        else if (*b == "cpu") o.params.backend = Backend::Cpu;
        else if (*b == "vulkan") o.params.backend = Backend::Vulkan;
        else throw UsageError("--backend must be auto, cpu or vulkan");
    }
    o.self_test = args.flag({"--self-test"});
    return o;
}

// Sampling flags on top of the model's defaults; `seed` gets --seed or a random one.
inline SamplingParams parse_sampling(Args& args, const Model& model, uint64_t& seed) {
    SamplingParams s = model.default_sampling();
    if (auto v = args.number({"--temp"})) s.temperature = static_cast<float>(*v);
    if (auto v = args.integer({"--top-k"})) s.top_k = static_cast<int32_t>(*v);
    if (auto v = args.number({"--top-p"})) s.top_p = static_cast<float>(*v);
    if (auto v = args.number({"--min-p"})) s.min_p = static_cast<float>(*v);
    if (auto v = args.number({"--repeat-penalty"})) {
        if (*v <= 0) throw UsageError("--repeat-penalty must be > 0");
        s.repeat_penalty = static_cast<float>(*v);
    }
    if (auto v = args.integer({"--seed", "-s"})) seed = static_cast<uint64_t>(*v);
    else seed = std::random_device{}();
    return s;
}

// Loads the model and prints the self-test verdict to stderr when asked (or when it fails).
inline std::unique_ptr<Model> load_model(const ModelOptions& o) {
    auto model = Model::load(o.path, o.params);
    if (o.self_test) {
        const SelfTestResult r = model->self_test();
        std::cerr << r.message << "\n";
    }
    return model;
}

}  // namespace bonsai::cli
