// bonsai-cli plugin: list plugins and run a plugin's command headless.
//
//   bonsai-cli plugin list [--plugin-dir DIR]...
//   bonsai-cli plugin run ID COMMAND [ARGS...] [-m MODEL] [--dry-run] [--plugin-dir DIR]...
//                         [--argument TEXT] [--max-tokens N] [--timeout-ms N]
//
// --plugin-dir replaces the default plugin directories (the app's, or the source tree's built-ins in a
// development build, and the user's $XDG_DATA_HOME/bonsai/plugins). COMMAND is a slash command of the
// plugin ("translate" or "/translate"; ARGS are joined with spaces as its text) or one of its message
// actions (ARGS are then the message's text and --argument the action's argument, e.g. a language).
// Completions come from MODEL (default: the bundled model) through the engine; --dry-run asks no model
// and prints the prompt the plugin would send instead. Messages the plugin inserts and composer text go
// to stdout, notifications and logs to stderr. Exit status 1 when the plugin fails or is disabled.
#include <QCoreApplication>
#include <QFileInfo>
#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "api/host_services.h"
#include "bonsai/chat.h"
#include "bonsai/model.h"
#include "bonsai/session.h"
#include "command.h"
#include "core/paths.h"
#include "host/discovery.h"
#include "host/plugin_host.h"

namespace {

using bonsai::cli::UsageError;
namespace bp = bonsai::plugins;

std::mutex g_out;  // plugin threads print too

void out(std::ostream& s, const QString& text) {
    std::lock_guard lock(g_out);
    s << text.toStdString() << std::endl;
}

// HostServices for a headless run: no conversation, no clipboard beyond the process, no personal
// context; completions from a local model through the engine (or printed, with --dry-run).
class CliServices : public bp::HostServices {
public:
    CliServices(bonsai::Model* model, int64_t maxTokens) : model_(model), maxTokens_(maxTokens) {
        if (model_) session_ = std::make_unique<bonsai::Session>(*model_, bonsai::SessionParams{4096, 0, model_->default_sampling(), 512});
    }
    ~CliServices() override { join(); }

    // Waits for every generation thread.
    void join() {
        std::vector<std::thread> threads;
        {
            std::lock_guard lock(mutex_);
            threads.swap(threads_);
        }
        for (auto& t : threads) t.join();
    }

    QList<bp::ChatMessage> conversation() override { return {}; }
    bp::ChatMessage selectedMessage() override { return {}; }
    bool isCloudMode() override { return false; }

    quint64 startCompletion(const bp::CompletionRequest& request, bp::CompletionCallbacks callbacks) override {
        std::lock_guard lock(mutex_);
        const quint64 id = ++next_;
        if (!model_) {
            std::lock_guard o(g_out);
            std::cout << "--- prompt from " << request.pluginId.toStdString() << " (dry run) ---\n";
            for (const bp::ChatMessage& m : request.messages)
                std::cout << "[" << m.role.toStdString() << "]\n" << m.content.toStdString() << "\n";
            std::cout << "--- end of prompt ---" << std::endl;
            callbacks.onDone(QStringLiteral("dry run: the prompt was printed, no model was asked"));
            return id;
        }
        // Generation runs on its own thread: the plugin's call must return at once (it has a time limit).
        threads_.emplace_back([this, request, callbacks] { generate(request, callbacks); });
        return id;
    }

    void cancelCompletion(quint64) override {
        if (session_) session_->cancel();
    }
    QList<bp::ContextHit> contextSearch(const QString&, int) override { return {}; }
    void insertMessage(const QString&, const bp::ChatMessage& m) override { out(std::cout, m.content); }
    void fillComposer(const QString&, const QString& text) override { out(std::cout, text); }
    void notify(const QString& pluginId, const QString& text) override {
        out(std::cerr, QStringLiteral("[%1] %2").arg(pluginId, text));
    }
    QString clipboardText() override {
        std::lock_guard lock(mutex_);
        return clipboard_;
    }
    void setClipboardText(const QString& text) override {
        std::lock_guard lock(mutex_);
        clipboard_ = text;
    }

private:
    void generate(const bp::CompletionRequest& request, const bp::CompletionCallbacks& callbacks) {
        std::lock_guard busy(generating_);  // one Session: one generation at a time
        try {
            std::vector<bonsai::ChatMessage> messages;
            for (const bp::ChatMessage& m : request.messages) messages.push_back({m.role.toStdString(), m.content.toStdString()});
            bonsai::ChatPromptOptions po;
            po.extra = {{"enable_thinking", false}};
            const bonsai::ChatPrompt prompt = bonsai::build_chat_prompt(*model_, messages, po);
            if (!prompt.warning.empty()) out(std::cerr, QStringLiteral("warning: %1").arg(QString::fromStdString(prompt.warning)));
            bonsai::GenerateOptions go;
            go.max_tokens = request.options.contains("maxTokens") ? request.options.value("maxTokens").toLongLong() : maxTokens_;
            go.max_tokens = std::clamp<int64_t>(go.max_tokens, 1, maxTokens_);
            go.stop_strings = bonsai::chat_stop_strings(*model_, prompt);
            bonsai::SamplingParams sampling = model_->default_sampling();
            if (request.options.contains("temperature")) sampling.temperature = request.options.value("temperature").toFloat();
            session_->set_sampling(sampling, 0);
            session_->generate(prompt.tokens, go, [&](int32_t, std::string_view text) {
                if (!text.empty() && callbacks.onToken)
                    callbacks.onToken(QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())));
                return true;
            });
            callbacks.onDone(QString());
        } catch (const std::exception& e) {
            callbacks.onDone(QString::fromUtf8(e.what()));
        }
    }

    bonsai::Model* model_;
    int64_t maxTokens_;
    std::unique_ptr<bonsai::Session> session_;
    std::mutex mutex_, generating_;
    std::vector<std::thread> threads_;
    quint64 next_ = 0;
    QString clipboard_;
};

QStringList pluginDirs(bonsai::cli::Args& args) {
    const std::vector<std::string> dirs = args.values({"--plugin-dir"});
    if (dirs.empty()) return bp::defaultPluginDirs(QCoreApplication::applicationDirPath());
    QStringList out;
    for (const auto& d : dirs) out << QString::fromStdString(d);
    return out;
}

int runList(bonsai::cli::Args& args) {
    const QStringList dirs = pluginDirs(args);
    if (!args.positionals().empty()) throw UsageError("'plugin list' takes no arguments");
    const auto found = bp::discoverPlugins(dirs);
    for (const bp::DiscoveredPlugin& d : found) {
        if (!d.manifest) continue;
        const bp::PluginManifest& m = *d.manifest;
        QString line = QStringLiteral("%1  %2 %3  (%4)").arg(m.id, m.name, m.version,
                                                            m.type == bp::PluginType::Native ? "native" : "javascript");
        out(std::cout, line);
        out(std::cout, QStringLiteral("    folder:      %1").arg(d.folder));
        out(std::cout, QStringLiteral("    permissions: %1").arg(m.permissions.isEmpty() ? "none" : m.permissions.join(", ")));
        for (const auto& c : m.commands) out(std::cout, QStringLiteral("    /%1  %2").arg(c.name, c.description));
        for (const auto& a : m.messageActions) out(std::cout, QStringLiteral("    action %1  %2").arg(a.id, a.title));
    }
    for (const bp::DiscoveredPlugin& d : found)
        if (!d.manifest) out(std::cerr, QStringLiteral("skipped %1: %2").arg(d.folder, d.error));
    return 0;
}

int runRun(bonsai::cli::Args& args) {
    bp::HostOptions options;
    options.pluginDirs = pluginDirs(args);
    options.settingsDir = bp::defaultSettingsDir();
    const std::optional<std::string> modelPath = args.value({"-m", "--model"});
    const bool dryRun = args.flag({"--dry-run"});
    const std::string argument = args.value({"--argument"}).value_or("");
    const int64_t maxTokens = args.integer({"--max-tokens"}).value_or(512);
    if (const auto t = args.integer({"--timeout-ms"})) options.timeoutMs = static_cast<int>(std::clamp<long long>(*t, 10, 600000));
    const std::vector<std::string> pos = args.positionals();
    if (pos.size() < 2) throw UsageError("expected a plugin id and a command");
    if (maxTokens < 1) throw UsageError("--max-tokens must be at least 1");
    if (dryRun && modelPath) throw UsageError("--dry-run and -m exclude each other");
    const QString id = QString::fromStdString(pos[0]);
    QString command = QString::fromStdString(pos[1]);
    if (command.startsWith('/')) command.remove(0, 1);
    QStringList rest;
    for (size_t i = 2; i < pos.size(); ++i) rest << QString::fromStdString(pos[i]);
    const QString text = rest.join(' ');

    std::unique_ptr<bonsai::Model> model;
    if (!dryRun) {
        QString path = modelPath ? QString::fromStdString(*modelPath)
                                 : bonsai::core::bundledDefaultModel(QCoreApplication::applicationDirPath());
        if (path.isEmpty()) throw UsageError("no model: pass -m MODEL, or --dry-run to print the prompt instead");
        model = bonsai::Model::load(path.toStdString());
    }

    CliServices services(model.get(), maxTokens);
    int status = 0;
    {
        bp::PluginHost host(&services, options);
        QObject::connect(&host, &bp::PluginHost::pluginDisabled, [&](const QString&, const QString& message) {
            out(std::cerr, message);
            status = 1;
        });
        QObject::connect(&host, &bp::PluginHost::pluginLog,
                         [](const QString& pid, const QString& line) { out(std::cerr, QStringLiteral("[%1 log] %2").arg(pid, line)); });
        host.loadAll();
        const auto info = host.plugin(id);
        if (!info) throw bonsai::Error("no plugin '" + pos[0] + "' (see 'bonsai-cli plugin list')");
        const auto& m = info->manifest;
        const bool isCommand = std::any_of(m.commands.begin(), m.commands.end(), [&](const auto& c) { return c.name == command; });
        const bool isAction = std::any_of(m.messageActions.begin(), m.messageActions.end(), [&](const auto& a) { return a.id == command; });
        if (!isCommand && !isAction)
            throw UsageError("plugin '" + pos[0] + "' has no command or message action '" + command.toStdString() + "'");
        QString error;
        const bool queued = isCommand
            ? host.runCommand(id, command, text, &error)
            : host.runMessageAction(id, command, bp::ChatMessage{QStringLiteral("cli"), QStringLiteral("user"), text},
                                    QString::fromStdString(argument), &error);
        if (!queued) {
            // Disabled while loading: its message was printed by the signal handler.
            if (status == 0) out(std::cerr, error);
            return 1;
        }
        // No wall-clock limit here: a long generation is the model's business, not the plugin's.
        while (!host.waitForIdle(id, 60 * 60 * 1000)) {
        }
    }
    services.join();
    return status;
}

int run_plugin(bonsai::cli::Args& args) {
    if (args.raw().empty()) throw UsageError("expected 'list' or 'run'");
    const std::string sub = args.raw()[0];
    bonsai::cli::Args rest(std::vector<std::string>(args.raw().begin() + 1, args.raw().end()));
    static int argc = 1;
    static char name[] = "bonsai-cli";
    static char* argv[] = {name, nullptr};
    QCoreApplication app(argc, argv);
    if (sub == "list") return runList(rest);
    if (sub == "run") return runRun(rest);
    throw UsageError("unknown plugin subcommand '" + sub + "' (expected 'list' or 'run')");
}

const bonsai::cli::Registration reg{
    "plugin",
    "list [--plugin-dir DIR] | run ID COMMAND [ARGS...] [-m MODEL | --dry-run] [--argument TEXT] [--max-tokens N]"
    "  list plugins / run a plugin command headless",
    run_plugin};

}  // namespace
