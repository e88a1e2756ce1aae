// bonsai-cli chat -m MODEL [--system TEXT] [--think] [-n N] [sampling flags] [-t] [-c]: interactive chat.
// Each input line is a user message; the conversation is rendered with the model's chat template
// (render_chat; ChatML with a warning when the template is missing or fails) and the answer streams to
// stdout. Commands: /reset (new conversation), /exit (or end of input).
#include <iostream>
#include <string>

#include "bonsai/chat_template.h"
#include "bonsai/gguf.h"
#include "bonsai/tokenizer.h"
#include "command.h"
#include "model_options.h"

namespace {

using namespace bonsai;
using bonsai::cli::UsageError;

std::string render(const Model& model, const std::vector<ChatMessage>& msgs, bool think, bool& warned) {
    const Tokenizer& tok = *model.tokenizer();
    const auto tmpl = model.file().get_string("tokenizer.chat_template");
    if (tmpl) {
        try {
            ChatRenderRequest req;
            req.messages = msgs;
            req.add_generation_prompt = true;
            if (tok.bos_id() >= 0) req.bos_token = tok.token_text(tok.bos_id());
            if (tok.eos_id() >= 0) req.eos_token = tok.token_text(tok.eos_id());
            if (!think) req.extra["enable_thinking"] = false;
            return render_chat(*tmpl, req);
        } catch (const std::exception& e) {
            if (!warned) std::cerr << "warning: the model's chat template failed (" << e.what() << "); using ChatML\n";
            warned = true;
        }
    } else if (!warned) {
        std::cerr << "warning: the model has no chat template; using ChatML\n";
        warned = true;
    }
    return render_chatml(msgs, true);
}

int run_chat(cli::Args& args) {
    cli::ModelOptions mo = cli::parse_model_options(args);
    const std::string system = args.value({"--system"}).value_or("");
    const bool think = args.flag({"--think"});
    const long long n_predict = args.integer({"-n", "--n-predict"}).value_or(1024);
    auto model = cli::load_model(mo);
    uint64_t seed = 0;
    const SamplingParams sampling = cli::parse_sampling(args, *model, seed);
    if (!args.positionals().empty()) throw UsageError("unexpected argument");
    if (!model->tokenizer()) throw Error("this model has no tokenizer");
    SessionParams sp;
    sp.n_ctx = mo.n_ctx;
    sp.seed = seed;
    sp.sampling = sampling;
    Session session(*model, sp);
    std::vector<ChatMessage> msgs;
    if (!system.empty()) msgs.push_back({"system", system});
    bool warned = false;
    std::string line;
    std::cerr << "chat with " << model->architecture() << " model; /reset starts over, /exit quits\n";
    while (true) {
        std::cout << "> " << std::flush;
        if (!std::getline(std::cin, line)) break;
        if (line == "/exit") break;
        if (line == "/reset") {
            msgs.clear();
            if (!system.empty()) msgs.push_back({"system", system});
            session.clear();
            std::cout << "(conversation reset)\n";
            continue;
        }
        if (line.empty()) continue;
        msgs.push_back({"user", line});
        const std::string prompt = render(*model, msgs, think, warned);
        const Tokenizer& tok = *model->tokenizer();
        const bool has_bos = tok.bos_id() >= 0 && tok.add_bos() && prompt.rfind(tok.token_text(tok.bos_id()), 0) == 0;
        const std::vector<int32_t> ids = tok.encode(prompt, !has_bos, true);
        GenerateOptions go;
        go.max_tokens = n_predict;
        GenerationResult r;
        try {
            r = session.generate(ids, go, [&](int32_t, std::string_view t) {
                std::cout << t << std::flush;
                return true;
            });
        } catch (const Error& e) {
            std::cerr << "\nerror: " << e.what() << " (use /reset)\n";
            msgs.pop_back();
            continue;
        }
        std::cout << "\n";
        msgs.push_back({"assistant", r.text});
        if (r.stop == StopReason::ContextFull) std::cerr << "(context full: use /reset)\n";
    }
    return 0;
}

const bonsai::cli::Registration reg{"chat",
                                    "-m MODEL [--system TEXT] [--think] [-n N] [--temp T] [--top-k K] [--top-p P] "
                                    "[--min-p P] [--seed S] [-t THREADS] [-c CTX]  interactive chat",
                                    run_chat};

}  // namespace
