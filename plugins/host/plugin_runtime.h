#pragma once
// PluginRuntime: one loaded plugin on its own worker thread. The host creates it, moves it to a fresh
// QThread and then only talks to it through queued calls (start, runCommand, runMessageAction) and
// signals. Every entry into plugin code goes through guarded(): the time limit is armed (where the kind of
// plugin can be interrupted), exceptions are caught, and any failure disables the plugin for good.
#include <QObject>

#include "host/plugin_context.h"
#include "host/watchdog.h"

namespace bonsai::plugins {

struct RuntimeOptions {
    QString settingsPath;      // the plugin's settings file
    qsizetype settingsLimit = kDefaultSettingsLimitBytes;
    int timeoutMs = 2000;      // limit of one synchronous call into plugin code
    Watchdog* watchdog = nullptr;  // shared by the host; outlives every runtime
};

class PluginRuntime : public QObject {
    Q_OBJECT
public:
    PluginRuntime(PluginManifest manifest, QString folder, HostServices* services, RuntimeOptions options);
    ~PluginRuntime() override;

    // Worker-thread entry points (the host invokes them queued).
    void start();
    void runCommand(const QString& name, const QString& args);
    void runMessageAction(const QString& id, const ChatMessage& message, const QString& argument);

    // Any thread: stops plugin code that is running now (JavaScript only; a no-op for native plugins).
    virtual void interrupt() {}

    const PluginManifest& manifest() const { return manifest_; }

signals:
    // The plugin was disabled; `message` is a readable sentence for the user.
    void failed(const QString& message);
    // A host-invoked call (start, command, action) has returned; `running` completions are still open.
    void callDone(int running);
    // A completion finished (its onDone ran); `running` are still open.
    void completionDone(int running);
    // A line from console.log / PluginApi::log.
    void logged(const QString& line);

protected:
    // Loads the plugin's code and lets it register its handlers; throws std::exception on failure.
    virtual void load() = 0;
    // What the watchdog does past the time limit; empty when this kind of plugin cannot be interrupted.
    virtual std::function<void()> expiryAction() { return {}; }

    // Runs plugin code under the time limit; false (and the plugin disabled) when it failed.
    bool guarded(const QString& what, const std::function<void()>& fn);
    void disable(const QString& reason);

    PluginManifest manifest_;
    QString folder_;
    RuntimeOptions options_;
    PluginContext context_;
    bool disabled_ = false;
};

}  // namespace bonsai::plugins
