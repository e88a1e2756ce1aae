// bonsai-cli chat: an interactive conversation, answered by the local model or an OpenAI-compatible cloud
// endpoint, through the same ConversationService the desktop app uses.
//
//   bonsai-cli chat [-m MODEL] [--cloud --base-url URL --model NAME] [--cloud-model NAME]
//                   [--db PATH [--conversation ID]] [--use-context] [--system TEXT] [--think] [-n N]
//                   [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S]
//                   [-t THREADS] [-c CTX] [--backend auto|cpu|vulkan]
//
// Each input line is a user message; the reply streams to stdout. Commands: /mode local, /mode cloud
// (switch who answers; the history goes along), /reset (a new conversation), /exit (or end of input).
// Without -m the bundled default model answers in local mode (loaded when first needed). --model is the
// local model file unless --cloud is given, where it names the cloud model (also settable with
// --cloud-model for a chat that starts local). The cloud key comes from BONSAI_API_KEY, else from the
// keychain entry "cloud/<URL>". With --db the conversation is stored there (replies saved as they grow)
// and its id is printed to stderr; --conversation continues a stored one. --use-context adds personal
// context from that database to local turns only (never to cloud requests).
#include <QCoreApplication>
#include <QEventLoop>
#include <QUrl>
#include <iostream>
#include <memory>
#include <string>

#include "bonsai/storage/database.h"
#include "command.h"
#include "core/conversation_service.h"
#include "core/local_provider.h"
#include "core/openai_provider.h"
#include "core/paths.h"
#include "core/secret_store.h"

namespace {

using namespace bonsai;
using bonsai::cli::UsageError;

struct ChatOptions {
    std::string localModel;        // "" = bundled default
    bool cloudStart = false;
    std::string baseUrl;
    std::string cloudModel;
    std::string dbPath;            // "" = in memory
    long long conversation = 0;
    bool useContext = false;
    std::string system;
    long long nPredict = 1024;
};

// Sampling overrides applied on top of the model's defaults once it is loaded.
struct SamplingFlags {
    std::optional<double> temp, topP, minP, repeatPenalty;
    std::optional<long long> topK;
};

SamplingParams applyFlags(SamplingParams s, const SamplingFlags& f) {
    if (f.temp) s.temperature = static_cast<float>(*f.temp);
    if (f.topK) s.top_k = static_cast<int32_t>(*f.topK);
    if (f.topP) s.top_p = static_cast<float>(*f.topP);
    if (f.minP) s.min_p = static_cast<float>(*f.minP);
    if (f.repeatPenalty) s.repeat_penalty = static_cast<float>(*f.repeatPenalty);
    return s;
}

QString cloudKey(const std::string& baseUrl) {
    const QString env = qEnvironmentVariable("BONSAI_API_KEY");
    if (!env.isEmpty()) return env;
    core::SecretStore store;
    return store.read(QStringLiteral("cloud/") + QString::fromStdString(baseUrl));
}

class ChatLoop {
public:
    ChatLoop(const ChatOptions& o, core::LocalProviderConfig localConfig, storage::Database& db)
        : o_(o), local_(std::move(localConfig)), service_(db) {
        service_.setLocalProvider(&local_);
        service_.setMaxReplyTokens(static_cast<int>(o.nPredict));
        // Titles are only worth a model call when the conversation is kept.
        service_.setAutoTitles(!o.dbPath.empty());
        if (!o.baseUrl.empty()) {
            core::OpenAIConfig cfg;
            cfg.baseUrl = QUrl(QString::fromStdString(o.baseUrl));
            cfg.apiKey = cloudKey(o.baseUrl);
            cloud_ = std::make_unique<core::OpenAIProvider>(cfg);
            service_.setCloudProvider(cloud_.get());
            service_.setCloudModel(QString::fromStdString(o.cloudModel));
        }
        QObject::connect(&service_, &core::ConversationService::errorOccurred, [](const QString& m) {
            std::cerr << "error: " << m.toStdString() << "\n";
        });
    }

    // Loads the local model (the bundled default without -m). False (after a message) when impossible.
    bool ensureLocalModel() {
        if (local_.isLoaded()) return true;
        QString path = QString::fromStdString(o_.localModel);
        if (path.isEmpty()) path = core::bundledDefaultModel(QCoreApplication::applicationDirPath());
        if (path.isEmpty()) {
            std::cerr << "error: no local model: pass -m MODEL (no bundled default model was found)\n";
            return false;
        }
        QString error;
        if (!local_.loadModelAndWait(path, &error)) {
            std::cerr << "error: " << error.toStdString() << "\n";
            return false;
        }
        return true;
    }

    // Opens the conversation; false when --conversation names none.
    bool open() {
        const QString startMode = o_.cloudStart ? QStringLiteral("cloud") : QStringLiteral("local");
        if (o_.conversation > 0) {
            const auto c = service_.conversation(o_.conversation);
            if (!c || c->deleted) {
                std::cerr << "error: no conversation " << o_.conversation << " in " << o_.dbPath << "\n";
                return false;
            }
            conv_ = c->id;
            if (o_.cloudStart) service_.setMode(conv_, startMode);
        } else {
            conv_ = service_.createConversation(startMode, QString::fromStdString(o_.system));
        }
        if (!o_.dbPath.empty()) std::cerr << "conversation " << conv_ << "\n";
        return true;
    }

    int run() {
        std::cerr << "chat (" << service_.mode(conv_).toStdString()
                  << " mode); /mode local|cloud switches, /reset starts over, /exit quits\n";
        std::string line;
        while (true) {
            std::cout << "> " << std::flush;
            if (!std::getline(std::cin, line)) break;
            if (line == "/exit") break;
            if (line == "/reset") {
                conv_ = service_.createConversation(service_.mode(conv_), QString::fromStdString(o_.system));
                std::cout << "(conversation reset)\n";
                if (!o_.dbPath.empty()) std::cerr << "conversation " << conv_ << "\n";
                continue;
            }
            if (line.rfind("/mode", 0) == 0) {
                switchMode(line);
                continue;
            }
            if (line.empty()) continue;
            turn(QString::fromStdString(line));
        }
        return 0;
    }

private:
    void switchMode(const std::string& line) {
        const std::string want = line.size() > 6 ? line.substr(6) : "";
        if (want == "cloud") {
            if (!cloud_) {
                std::cerr << "error: no cloud endpoint: start with --base-url URL and --cloud-model NAME\n";
                return;
            }
        } else if (want != "local") {
            std::cerr << "error: /mode takes 'local' or 'cloud'\n";
            return;
        }
        service_.setMode(conv_, QString::fromStdString(want));
        std::cout << "(mode: " << want << ")\n";
    }

    void turn(const QString& text) {
        if (service_.mode(conv_) == QLatin1String("local") && !ensureLocalModel()) return;
        QEventLoop loop;
        QObject ctx;
        QObject::connect(&service_, &core::ConversationService::replyToken, &ctx,
                         [](qint64, qint64, const QString& t) { std::cout << t.toStdString() << std::flush; });
        QObject::connect(&service_, &core::ConversationService::replyFinished, &ctx,
                         [&](qint64, qint64, const core::GenerationStats& s) {
                             std::cout << "\n";
                             if (s.finishReason == QLatin1String("length"))
                                 std::cerr << "(reply cut at the token limit)\n";
                             loop.quit();
                         });
        QObject::connect(&service_, &core::ConversationService::replyFailed, &ctx,
                         [&](qint64, qint64, const QString& m) {
                             std::cout << "\n";
                             std::cerr << "error: " << m.toStdString() << "\n";
                             loop.quit();
                         });
        if (service_.send(conv_, text, o_.useContext) == 0) return;  // refused: errorOccurred said why
        loop.exec();
    }

    const ChatOptions& o_;
    core::LocalProvider local_;
    std::unique_ptr<core::OpenAIProvider> cloud_;
    core::ConversationService service_;
    qint64 conv_ = 0;
};

int run_chat(cli::Args& args) {
    ChatOptions o;
    o.cloudStart = args.flag({"--cloud"});
    if (o.cloudStart) {
        o.cloudModel = args.value({"--model"}).value_or("");
        o.localModel = args.value({"-m"}).value_or("");
    } else {
        o.localModel = args.value({"-m", "--model"}).value_or("");
    }
    if (auto v = args.value({"--cloud-model"})) o.cloudModel = *v;
    o.baseUrl = args.value({"--base-url"}).value_or("");
    o.dbPath = args.value({"--db"}).value_or("");
    o.conversation = args.integer({"--conversation"}).value_or(0);
    o.useContext = args.flag({"--use-context"});
    o.system = args.value({"--system"}).value_or("");
    const bool think = args.flag({"--think"});
    o.nPredict = args.integer({"-n", "--n-predict"}).value_or(1024);

    core::LocalProviderConfig lc;
    lc.thinking = think;
    if (auto t = args.integer({"-t", "--threads"})) {
        if (*t < 1 || *t > 1024) throw UsageError("-t must be between 1 and 1024");
        lc.nThreads = static_cast<int>(*t);
    }
    if (auto c = args.integer({"-c", "--ctx-size"})) {
        if (*c < 0) throw UsageError("-c must be >= 0 (0 = the model's training context)");
        lc.nCtx = *c;
    }
    if (auto b = args.value({"--backend"})) {
        if (*b == "auto") lc.backend = Backend::Auto;
        else if (*b == "cpu") lc.backend = Backend::Cpu;
        else if (*b == "vulkan") {
            lc.backend = Backend::Vulkan;
            std::cerr << "Vulkan backend not available, using CPU\n";
        } else throw UsageError("--backend must be auto, cpu or vulkan");
    }
    SamplingFlags sf;
    sf.temp = args.number({"--temp"});
    sf.topK = args.integer({"--top-k"});
    sf.topP = args.number({"--top-p"});
    sf.minP = args.number({"--min-p"});
    sf.repeatPenalty = args.number({"--repeat-penalty"});
    if (sf.repeatPenalty && *sf.repeatPenalty <= 0) throw UsageError("--repeat-penalty must be > 0");
    if (auto s = args.integer({"--seed", "-s"})) lc.seed = static_cast<uint64_t>(*s);
    lc.sampling = [sf](const SamplingParams& defaults) { return applyFlags(defaults, sf); };
    lc.defaultMaxTokens = static_cast<int>(o.nPredict);
    if (!args.positionals().empty()) throw UsageError("unexpected argument");

    if (o.nPredict < 1) throw UsageError("-n must be >= 1");
    if (o.cloudStart && o.baseUrl.empty()) throw UsageError("--cloud needs --base-url URL");
    if (o.cloudStart && o.cloudModel.empty()) throw UsageError("--cloud needs --model NAME (the cloud model)");
    if (o.conversation != 0 && o.dbPath.empty()) throw UsageError("--conversation needs --db PATH");
    if (o.conversation < 0) throw UsageError("--conversation takes a conversation id");

    static int argc = 1;
    static char name[] = "bonsai-cli";
    static char* argv[] = {name, nullptr};
    QCoreApplication app(argc, argv);

    storage::Database db(o.dbPath.empty() ? std::string(":memory:") : o.dbPath);
    ChatLoop loop(o, lc, db);
    if (!loop.open()) return 1;
    // An explicit local model is loaded up front, so a bad file fails at once (exit 1).
    if (!o.cloudStart && !loop.ensureLocalModel()) return 1;
    return loop.run();
}

const bonsai::cli::Registration reg{
    "chat",
    "[-m MODEL | --cloud --base-url URL --model NAME] [--cloud-model NAME] [--db PATH] [--conversation ID] "
    "[--use-context] [--system TEXT] [--think] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--seed S] "
    "[-t THREADS] [-c CTX]  interactive chat (/mode local|cloud, /reset, /exit)",
    run_chat};

}  // namespace
