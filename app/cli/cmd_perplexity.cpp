// bonsai-cli perplexity -m MODEL -f TEXT [-c CTX] [-t THREADS]: perplexity of a text file.
// The tokenized text is split into windows of CTX tokens (default 512); every window is evaluated
// fresh and each token after the first of the window is scored (natural log, averaged over all).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bonsai/tokenizer.h"
#include "command.h"
#include "model_options.h"

namespace {

using namespace bonsai;
using bonsai::cli::UsageError;

int run_perplexity(cli::Args& args) {
    const bool ctx_given = [&] {
        for (const auto& a : args.raw())
            if (a == "-c" || a == "--ctx-size" || a.rfind("--ctx-size=", 0) == 0) return true;
        return false;
    }();
    cli::ModelOptions mo = cli::parse_model_options(args);
    auto file = args.value({"-f", "--file"});
    if (!file) throw UsageError("missing -f TEXT");
    if (!args.positionals().empty()) throw UsageError("unexpected argument");
    const int64_t n_ctx = ctx_given ? mo.n_ctx : 512;
    if (n_ctx < 2) throw UsageError("-c must be at least 2");
    std::ifstream in(*file, std::ios::binary);
    if (!in) throw Error("cannot open '" + *file + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    auto model = cli::load_model(mo);
    if (!model->tokenizer()) throw Error("this model has no tokenizer");
    const std::vector<int32_t> ids = model->tokenizer()->encode(ss.str(), true, false);
    if (ids.size() < 2) throw Error("the text has fewer than 2 tokens");
    SessionParams sp;
    sp.n_ctx = n_ctx;
    Session session(*model, sp);
    const int64_t win = session.n_ctx();
    const int64_t V = model->n_vocab();
    double nll = 0;
    int64_t scored = 0;
    for (size_t start = 0; start + 1 < ids.size(); start += static_cast<size_t>(win)) {
        const size_t len = std::min(ids.size() - start, static_cast<size_t>(win));
        if (len < 2) break;
        std::vector<int32_t> chunk(ids.begin() + static_cast<std::ptrdiff_t>(start),
                                   ids.begin() + static_cast<std::ptrdiff_t>(start + len));
        session.clear();
        session.evaluate(chunk, true);
        for (size_t i = 0; i + 1 < len; ++i) {
            const auto row = session.logits_row(static_cast<int64_t>(i));
            float mx = row[0];
            for (int64_t j = 1; j < V; ++j) mx = std::max(mx, row[static_cast<size_t>(j)]);
            double sum = 0;
            for (int64_t j = 0; j < V; ++j) sum += std::exp(static_cast<double>(row[static_cast<size_t>(j)] - mx));
            nll += std::log(sum) + mx - row[static_cast<size_t>(chunk[i + 1])];
            ++scored;
        }
        std::fprintf(stderr, "[%lld tokens scored] running perplexity %.4f\n", static_cast<long long>(scored),
                     std::exp(nll / static_cast<double>(scored)));
    }
    std::printf("perplexity: %.4f over %lld tokens (window %lld)\n", std::exp(nll / static_cast<double>(scored)),
                static_cast<long long>(scored), static_cast<long long>(win));
    return 0;
}

const bonsai::cli::Registration reg{"perplexity", "-m MODEL -f TEXT [-c CTX] [-t THREADS]  perplexity of a text file",
                                    run_perplexity};

}  // namespace
