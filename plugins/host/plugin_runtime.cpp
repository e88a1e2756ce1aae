#include "host/plugin_runtime.h"

#include <optional>

namespace bonsai::plugins {

PluginRuntime::PluginRuntime(PluginManifest manifest, QString folder, HostServices* services, RuntimeOptions options)
    : manifest_(manifest), folder_(std::move(folder)), options_(options),
      context_(std::move(manifest), services, options.settingsPath, options.settingsLimit) {
    context_.setDispatch(this, [this](const std::function<void()>& fn) {
        guarded(QStringLiteral("a completion callback"), fn);
    });
    context_.setCompletionFinished([this](int running) { emit completionDone(running); });
    context_.setLogSink([this](const QString& line) { emit logged(line); });
}

PluginRuntime::~PluginRuntime() { context_.close(); }

void PluginRuntime::start() {
    if (!context_.settingsLoadError().isEmpty()) emit logged(context_.settingsLoadError());
    guarded(QStringLiteral("loading"), [this] { load(); });
    emit callDone(context_.runningCompletions());
}

void PluginRuntime::runCommand(const QString& name, const QString& args) {
    if (!disabled_) {
        const CommandHandler handler = context_.commandHandler(name);
        if (!handler) emit logged(QStringLiteral("command /%1 has no handler (registerCommand was not called)").arg(name));
        else guarded(QStringLiteral("the command /%1").arg(name), [&] { handler(args); });
    }
    emit callDone(context_.runningCompletions());
}

void PluginRuntime::runMessageAction(const QString& id, const ChatMessage& message, const QString& argument) {
    if (!disabled_) {
        const MessageActionHandler handler = context_.messageActionHandler(id);
        if (!handler) emit logged(QStringLiteral("message action '%1' has no handler").arg(id));
        else guarded(QStringLiteral("the message action '%1'").arg(id), [&] { handler(message, argument); });
    }
    emit callDone(context_.runningCompletions());
}

bool PluginRuntime::guarded(const QString& what, const std::function<void()>& fn) {
    if (disabled_) return false;
    QString error;
    bool timedOut = false;
    {
        std::optional<WatchdogGuard> guard;
        if (auto action = expiryAction(); action && options_.watchdog)
            guard.emplace(*options_.watchdog, options_.timeoutMs, std::move(action));
        try {
            fn();
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        } catch (...) {
            error = QStringLiteral("an unknown exception");
        }
        if (guard) timedOut = guard->disarm();
    }
    if (timedOut) {
        disable(QStringLiteral("%1 ran longer than the time limit of %2 ms and was stopped")
                    .arg(what).arg(options_.timeoutMs));
        return false;
    }
    if (!error.isEmpty()) {
        disable(QStringLiteral("%1 failed: %2").arg(what, error));
        return false;
    }
    return true;
}

void PluginRuntime::disable(const QString& reason) {
    if (disabled_) return;
    disabled_ = true;
    context_.close();
    emit failed(QStringLiteral("Plugin \"%1\" (%2) was disabled: %3").arg(manifest_.name, manifest_.id, reason));
}

}  // namespace bonsai::plugins
