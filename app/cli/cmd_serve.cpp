// bonsai-cli serve: the local OpenAI-compatible server over one model.
#include <csignal>
#include <iostream>

#include "bonsai/model.h"
#include "command.h"
#include "openai_server.h"

namespace {

int run_serve(bonsai::cli::Args& args) {
    const auto model_path = args.value({"-m", "--model"});
    bonsai::server::ServerOptions opt;
    opt.host = args.value({"--host"}).value_or(opt.host);
    opt.port = static_cast<int>(args.integer({"--port"}).value_or(opt.port));
    opt.api_key = args.value({"--api-key"}).value_or(std::string());
    opt.parallel = static_cast<int>(args.integer({"--parallel", "-np"}).value_or(1));
    opt.n_ctx = args.integer({"-c", "--ctx-size"}).value_or(opt.n_ctx);
    opt.max_queue = static_cast<int>(args.integer({"--max-queue"}).value_or(opt.max_queue));
    opt.max_tokens_limit = args.integer({"--max-tokens-limit"}).value_or(opt.max_tokens_limit);
    opt.model_id = args.value({"--alias"}).value_or(std::string());
    const auto threads = args.integer({"-t", "--threads"});
    const std::string backend = args.value({"--backend"}).value_or("auto");
    if (!args.positionals().empty()) throw bonsai::cli::UsageError("unexpected arguments");
    if (!model_path) throw bonsai::cli::UsageError("-m MODEL is required");
    if (opt.port < 0 || opt.port > 65535) throw bonsai::cli::UsageError("--port must be 0..65535");
    if (opt.parallel < 1 || opt.parallel > 64) throw bonsai::cli::UsageError("--parallel must be 1..64");
    if (opt.api_key.empty()) {
        if (const char* k = std::getenv("BONSAI_SERVER_API_KEY")) opt.api_key = k;
    }

    bonsai::ModelParams mp;
    mp.n_threads = static_cast<int>(threads.value_or(0));
    if (backend == "cpu") mp.backend = bonsai::Backend::Cpu;
    else if (backend == "vulkan") mp.backend = bonsai::Backend::Vulkan;
    else if (backend != "auto") throw bonsai::cli::UsageError("--backend must be auto, cpu or vulkan");
    auto model = bonsai::Model::load(*model_path, mp);

    // Block SIGINT/SIGTERM in every thread; this one waits for them and shuts the server down.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    bonsai::server::OpenAIServer server(*model, opt);
    server.start();
    if (opt.host != "127.0.0.1" && opt.host != "localhost" && opt.host != "::1")
        std::cerr << "warning: listening on " << opt.host << ": other machines can reach this server"
                  << (opt.api_key.empty() ? " and no --api-key is set" : "") << "\n";
    std::cerr << "bonsai-cli serve: listening on http://" << opt.host << ":" << server.port() << "/v1 (model "
              << model->architecture() << ", " << opt.parallel << " slot(s)); Ctrl+C stops\n";
    std::cout << "port " << server.port() << std::endl;  // machine-readable, for scripts and tests
    int sig = 0;
    sigwait(&set, &sig);
    std::cerr << "bonsai-cli serve: stopping\n";
    server.stop();
    return 0;
}

const bonsai::cli::Registration reg{
    "serve",
    "-m MODEL [--host 127.0.0.1] [--port 8080] [--api-key K] [--parallel N] [-c CTX] [-t THREADS]  OpenAI-compatible local server",
    run_serve};

}  // namespace
