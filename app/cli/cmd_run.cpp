// bonsai-cli run: raw completion of a prompt, streamed to stdout (llama.cpp-style flags).
//   run -m MODEL (-p PROMPT | --tokens "ID ID ...") [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
//       [--seed S] [-t THREADS] [-c CTX] [--backend auto|cpu|vulkan] [--logits-out FILE] [--print-ids] [--self-test]
// -n 0 only evaluates the prompt (useful with --logits-out, which writes n_prompt × n_vocab float32).
// --print-ids prints the generated ids, space separated, instead of the text. Stats go to stderr.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bonsai/tokenizer.h"
#include "command.h"
#include "model_options.h"

namespace {

using namespace bonsai;
using bonsai::cli::UsageError;

std::vector<int32_t> parse_ids(const std::string& s) {
    std::istringstream in(s);
    std::vector<int32_t> ids;
    std::string w;
    while (in >> w) {
        try {
            size_t used = 0;
            const long long v = std::stoll(w, &used);
            if (used != w.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument("x");
            ids.push_back(static_cast<int32_t>(v));
        } catch (const std::exception&) {
            throw UsageError("--tokens: '" + w + "' is not a token id");
        }
    }
    return ids;
}

int run_run(cli::Args& args) {
    cli::ModelOptions mo = cli::parse_model_options(args);
    auto prompt = args.value({"-p", "--prompt"});
    auto tokens_arg = args.value({"--tokens"});
    const long long n_predict = args.integer({"-n", "--n-predict"}).value_or(128);
    auto logits_out = args.value({"--logits-out"});
    const bool print_ids = args.flag({"--print-ids"});
    if (!prompt == !tokens_arg) throw UsageError("give exactly one of -p PROMPT or --tokens \"ID ...\"");
    if (n_predict < 0) throw UsageError("-n must be >= 0");
    auto model = cli::load_model(mo);
    uint64_t seed = 0;
    const SamplingParams sampling = cli::parse_sampling(args, *model, seed);
    if (!args.positionals().empty()) throw UsageError("unexpected argument");

    std::vector<int32_t> ids;
    if (tokens_arg) {
        ids = parse_ids(*tokens_arg);
    } else {
        if (!model->tokenizer()) throw Error("this model has no tokenizer; use --tokens");
        ids = model->tokenizer()->encode(*prompt, true, true);
    }
    if (ids.empty()) throw UsageError("the prompt is empty");

    SessionParams sp;
    sp.n_ctx = mo.n_ctx;
    sp.seed = seed;
    sp.sampling = sampling;
    Session session(*model, sp);
    if (logits_out) {
        session.evaluate(ids, true);
        std::ofstream out(*logits_out, std::ios::binary);
        if (!out) throw Error("cannot write '" + *logits_out + "'");
        for (int64_t i = 0; i < session.logits_rows(); ++i) {
            const auto row = session.logits_row(i);
            out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size() * sizeof(float)));
        }
        if (!out) throw Error("cannot write '" + *logits_out + "'");
    }
    if (n_predict == 0) {
        if (!logits_out) session.evaluate(ids);
        return 0;
    }
    GenerateOptions go;
    go.max_tokens = n_predict;
    const GenerationResult r = session.generate(ids, go, [&](int32_t, std::string_view text) {
        if (!print_ids) {
            std::cout << text;
            std::cout.flush();
        }
        return true;
    });
    if (print_ids) {
        for (size_t i = 0; i < r.tokens.size(); ++i) std::cout << (i ? " " : "") << r.tokens[i];
    }
    std::cout << "\n";
    const auto& st = r.stats;
    std::fprintf(stderr, "\nprompt: %lld tokens (%lld reused), %.1f tok/s | generated: %lld tokens, %.1f tok/s | "
                 "time to first token: %.0f ms | stop: %s\n",
                 static_cast<long long>(st.n_prompt), static_cast<long long>(st.n_reused), st.prompt_tps(),
                 static_cast<long long>(st.n_generated), st.decode_tps(), st.ttft_ms, stop_reason_name(r.stop));
    return 0;
}

const bonsai::cli::Registration reg{
    "run",
    "-m MODEL (-p PROMPT | --tokens \"ID ...\") [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--seed S] "
    "[-t THREADS] [-c CTX] [--backend auto|cpu|vulkan] [--logits-out FILE] [--print-ids] [--self-test]  "
    "complete a prompt",
    run_run};

}  // namespace
