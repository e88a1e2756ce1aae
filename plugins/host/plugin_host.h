#pragma once
// PluginHost: loads plugins, gives each its own worker thread, routes commands and message actions to
// them, and reports failures. Lives on the app's main (or core) thread; all calls into plugins are
// asynchronous: runCommand() returns at once, results come through HostServices and the signals below.
//
//   PluginHost host(&services, HostOptions::defaults(QCoreApplication::applicationDirPath()));
//   connect(&host, &PluginHost::pluginDisabled, ...);  // show the message to the user
//   host.loadAll();
//   host.runCommandLine("/translate to de Good morning");
#include <QHash>
#include <QObject>
#include <QThread>
#include <memory>

#include "api/host_services.h"
#include "host/discovery.h"
#include "host/settings_store.h"
#include "host/watchdog.h"

namespace bonsai::plugins {

class PluginRuntime;

struct HostOptions {
    QStringList pluginDirs;    // searched in order by loadAll()
    QString settingsDir;       // <settingsDir>/<plugin id>.json
    int timeoutMs = 2000;      // time limit of one synchronous call into plugin code
    qsizetype settingsLimit = kDefaultSettingsLimitBytes;

    // defaultPluginDirs(applicationDir) and defaultSettingsDir().
    static HostOptions defaults(const QString& applicationDir);
};

struct PluginInfo {
    PluginManifest manifest;
    QString folder;
    bool enabled = true;  // false once disabled
    QString error;        // why it was disabled
};

class PluginHost : public QObject {
    Q_OBJECT
public:
    PluginHost(HostServices* services, HostOptions options, QObject* parent = nullptr);
    // Interrupts running plugin code and joins every worker thread.
    ~PluginHost() override;

    // Discovers and loads every plugin in options.pluginDirs. Folders that are not valid plugins (and
    // duplicate ids) are skipped and reported through loadFailed(); returns the number loaded.
    int loadAll();
    // Loads one plugin folder; false (and loadFailed) when it is not a valid plugin or its id is taken.
    bool loadFolder(const QString& folder);

    QList<PluginInfo> plugins() const;
    std::optional<PluginInfo> plugin(const QString& id) const;
    // The rejected folders with their messages.
    const QList<DiscoveredPlugin>& loadFailures() const { return failures_; }
    // The id of the first enabled plugin contributing command `name`, or "".
    QString commandOwner(const QString& name) const;

    // Queue a call into a plugin; false (with *error set) for an unknown or disabled plugin or an
    // undeclared command / action.
    bool runCommand(const QString& pluginId, const QString& name, const QString& args, QString* error = nullptr);
    // "/name rest of line": finds the owner of `name` and runs it.
    bool runCommandLine(const QString& line, QString* error = nullptr);
    bool runMessageAction(const QString& pluginId, const QString& actionId, const ChatMessage& message,
                          const QString& argument = QString(), QString* error = nullptr);

    // True when no call into the plugin is queued or running and none of its completions is open.
    bool isIdle(const QString& pluginId) const;
    // Runs the event loop until the plugin is idle (or disabled) or `timeoutMs` passes; true when idle.
    bool waitForIdle(const QString& pluginId, int timeoutMs);

    const HostOptions& options() const { return options_; }

signals:
    void pluginLoaded(const QString& pluginId);
    // A plugin failed (exception, time limit, load error) and is now disabled; `message` is for the user.
    void pluginDisabled(const QString& pluginId, const QString& message);
    // A folder was not loaded; `message` says why.
    void loadFailed(const QString& folder, const QString& message);
    // The plugin has nothing queued, running or streaming any more.
    void pluginIdle(const QString& pluginId);
    // console.log output of a plugin.
    void pluginLog(const QString& pluginId, const QString& line);

private:
    struct Entry {
        PluginInfo info;
        QThread* thread = nullptr;
        PluginRuntime* runtime = nullptr;
        int outstanding = 0;  // host calls queued or running
        int running = 0;      // open completions
    };
    Entry* enabledEntry(const QString& id, QString* error);
    void post(Entry& e, std::function<void()> fn);
    void onCallDone(const QString& id, int running);
    void onCompletionDone(const QString& id, int running);
    void onFailed(const QString& id, const QString& message);
    void checkIdle(Entry& e);
    void reject(const DiscoveredPlugin& d);

    HostServices* services_;
    HostOptions options_;
    std::unique_ptr<Watchdog> watchdog_ = std::make_unique<Watchdog>();
    QList<QString> order_;                       // plugin ids in load order
    QHash<QString, std::shared_ptr<Entry>> entries_;
    QList<DiscoveredPlugin> failures_;
};

}  // namespace bonsai::plugins
