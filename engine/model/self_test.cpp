// Known-answer self test (issue 5 item 7): a healthy model predicts ordinary English far better than
// chance, so the perplexity of a fixed passage must be well below the vocabulary size, and its logits
// must be finite and vary between positions. A file that fails gets a clear "gibberish" warning;
// synthetic files (general.synthetic) are expected to fail and say so instead.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bonsai/session.h"
#include "model/model_impl.h"
#include "model/self_test_text.h"

namespace bonsai {

SelfTestResult model_detail::evaluate_self_test(Model& model, const std::vector<int32_t>& ids) {
    SelfTestResult r;
    r.synthetic = model.is_synthetic();
    r.n_tokens = static_cast<int64_t>(ids.size());
    if (ids.size() < 2) {
        r.message = "self test skipped: the passage has fewer than 2 tokens";
        return r;
    }
    r.ran = true;
    SessionParams sp;
    sp.n_ctx = static_cast<int64_t>(ids.size());
    Session s(model, sp);
    s.evaluate(ids, true);
    const int64_t V = model.n_vocab();
    r.finite = true;
    r.constant = true;
    double nll = 0.0;
    for (int64_t i = 0; i < s.logits_rows(); ++i) {
        const auto row = s.logits_row(i);
        const auto row0 = s.logits_row(0);
        float mx = -INFINITY;
        for (int64_t j = 0; j < V; ++j) {
            if (!std::isfinite(row[static_cast<size_t>(j)])) r.finite = false;
            if (row[static_cast<size_t>(j)] != row0[static_cast<size_t>(j)]) r.constant = false;
            mx = std::max(mx, row[static_cast<size_t>(j)]);
        }
        if (i + 1 < s.logits_rows() && r.finite) {
            double sum = 0.0;
            for (int64_t j = 0; j < V; ++j) sum += std::exp(static_cast<double>(row[static_cast<size_t>(j)] - mx));
            nll += std::log(sum) + mx - row[static_cast<size_t>(ids[static_cast<size_t>(i + 1)])];
        }
    }
    r.perplexity = r.finite ? std::exp(nll / static_cast<double>(ids.size() - 1)) : INFINITY;
    // "Well below the vocabulary size": a model that learned anything beats a uniform guess by a wide
    // margin on plain English; random weights land near (or above) the vocabulary size.
    const double limit = std::max(2.0, static_cast<double>(V) / 10.0);
    r.passed = r.finite && !r.constant && r.perplexity < limit;
    char buf[256];
    if (r.passed) {
        std::snprintf(buf, sizeof buf, "self test passed: perplexity %.1f on the reference passage (vocabulary %lld)",
                      r.perplexity, static_cast<long long>(V));
    } else if (r.synthetic) {
        std::snprintf(buf, sizeof buf,
                      "self test: this is a synthetic model with random weights (general.synthetic); its output "
                      "is meaningless by design (perplexity %.1f)",
                      r.perplexity);
    } else {
        std::snprintf(buf, sizeof buf,
                      "WARNING: self test failed (%s; perplexity %.1f, limit %.1f): this file's output will be "
                      "gibberish. It may be corrupt or use a tensor layout this engine reads differently.",
                      !r.finite ? "non-finite logits" : r.constant ? "constant logits" : "perplexity too high",
                      r.perplexity, limit);
    }
    r.message = buf;
    return r;
}

SelfTestResult Model::self_test() {
    SelfTestResult r;
    r.synthetic = is_synthetic();
    try {
        const std::vector<int32_t> ids = model_detail::self_test_tokens(*this);
        if (ids.empty()) {
            r.message = "self test skipped: no tokenizer for this file";
        } else {
            r = model_detail::evaluate_self_test(*this, ids);
        }
    } catch (const std::exception& e) {
        r.ran = true;
        r.passed = false;
        r.message = std::string("WARNING: self test failed to run (") + e.what() + "): output may be gibberish";
    }
    impl_->self_test = r;
    return r;
}

}  // namespace bonsai
