#include "host/plugin_host.h"

#include <QDir>
#include <QEventLoop>
#include <QRegularExpression>
#include <QTimer>

#include "host/js_runtime.h"
#include "host/native_runtime.h"

namespace bonsai::plugins {

HostOptions HostOptions::defaults(const QString& applicationDir) {
    HostOptions o;
    o.pluginDirs = defaultPluginDirs(applicationDir);
    o.settingsDir = defaultSettingsDir();
    return o;
}

PluginHost::PluginHost(HostServices* services, HostOptions options, QObject* parent)
    : QObject(parent), services_(services), options_(std::move(options)) {}

PluginHost::~PluginHost() {
    // Stop running code first (the time limit would do it too, only later), then join the threads.
    for (const auto& e : std::as_const(entries_))
        if (e->runtime) e->runtime->interrupt();
    for (const auto& e : std::as_const(entries_)) {
        e->thread->quit();
        e->thread->wait();
        delete e->thread;
    }
}

void PluginHost::reject(const DiscoveredPlugin& d) {
    failures_ << d;
    emit loadFailed(d.folder, d.error);
}

int PluginHost::loadAll() {
    int loaded = 0;
    for (const DiscoveredPlugin& d : discoverPlugins(options_.pluginDirs)) {
        if (!d.manifest) {
            reject(d);
            continue;
        }
        if (loadFolder(d.folder)) ++loaded;
    }
    return loaded;
}

bool PluginHost::loadFolder(const QString& folder) {
    DiscoveredPlugin d = readPluginFolder(folder);
    if (!d.manifest) {
        reject(d);
        return false;
    }
    const PluginManifest& m = *d.manifest;
    if (entries_.contains(m.id)) {
        d.error = QStringLiteral("plugin id '%1' is already used by %2").arg(m.id, entries_.value(m.id)->info.folder);
        d.manifest.reset();
        reject(d);
        return false;
    }

    auto e = std::make_shared<Entry>();
    e->info = PluginInfo{m, d.folder, true, QString()};
    RuntimeOptions ro;
    ro.settingsPath = QDir(options_.settingsDir).filePath(m.id + QStringLiteral(".json"));
    ro.settingsLimit = options_.settingsLimit;
    ro.timeoutMs = options_.timeoutMs;
    ro.watchdog = watchdog_.get();
    if (m.type == PluginType::Native) e->runtime = new NativeRuntime(m, d.folder, services_, ro);
    else e->runtime = new JsRuntime(m, d.folder, services_, ro);

    e->thread = new QThread;
    e->thread->setObjectName(QStringLiteral("plugin:%1").arg(m.id));
    e->runtime->moveToThread(e->thread);
    connect(e->thread, &QThread::finished, e->runtime, &QObject::deleteLater);
    const QString id = m.id;
    connect(e->runtime, &PluginRuntime::failed, this, [this, id](const QString& msg) { onFailed(id, msg); });
    connect(e->runtime, &PluginRuntime::callDone, this, [this, id](int running) { onCallDone(id, running); });
    connect(e->runtime, &PluginRuntime::completionDone, this, [this, id](int running) { onCompletionDone(id, running); });
    connect(e->runtime, &PluginRuntime::logged, this, [this, id](const QString& line) { emit pluginLog(id, line); });
    entries_.insert(id, e);
    order_ << id;
    e->thread->start();
    PluginRuntime* rt = e->runtime;
    post(*e, [rt] { rt->start(); });
    emit pluginLoaded(id);
    return true;
}

QList<PluginInfo> PluginHost::plugins() const {
    QList<PluginInfo> out;
    for (const QString& id : order_) out << entries_.value(id)->info;
    return out;
}

std::optional<PluginInfo> PluginHost::plugin(const QString& id) const {
    if (!entries_.contains(id)) return std::nullopt;
    return entries_.value(id)->info;
}

QString PluginHost::commandOwner(const QString& name) const {
    for (const QString& id : order_) {
        const auto& e = entries_.value(id);
        if (!e->info.enabled) continue;
        for (const CommandContribution& c : e->info.manifest.commands)
            if (c.name == name) return id;
    }
    return QString();
}

PluginHost::Entry* PluginHost::enabledEntry(const QString& id, QString* error) {
    auto it = entries_.find(id);
    if (it == entries_.end()) {
        if (error) *error = QStringLiteral("no plugin with id '%1'").arg(id);
        return nullptr;
    }
    if (!(*it)->info.enabled || !(*it)->runtime) {
        if (error) *error = QStringLiteral("plugin '%1' is disabled: %2").arg(id, (*it)->info.error);
        return nullptr;
    }
    return it->get();
}

void PluginHost::post(Entry& e, std::function<void()> fn) {
    ++e.outstanding;
    QMetaObject::invokeMethod(e.runtime, std::move(fn), Qt::QueuedConnection);
}

bool PluginHost::runCommand(const QString& pluginId, const QString& name, const QString& args, QString* error) {
    Entry* e = enabledEntry(pluginId, error);
    if (!e) return false;
    const auto& cmds = e->info.manifest.commands;
    if (std::none_of(cmds.begin(), cmds.end(), [&](const CommandContribution& c) { return c.name == name; })) {
        if (error) *error = QStringLiteral("plugin '%1' has no command /%2").arg(pluginId, name);
        return false;
    }
    PluginRuntime* rt = e->runtime;
    post(*e, [rt, name, args] { rt->runCommand(name, args); });
    return true;
}

bool PluginHost::runCommandLine(const QString& line, QString* error) {
    static const QRegularExpression re(QStringLiteral("^\\s*/([a-z][a-z0-9\\-]*)(?:\\s+(.*))?$"),
                                       QRegularExpression::DotMatchesEverythingOption);
    const auto m = re.match(line);
    if (!m.hasMatch()) {
        if (error) *error = QStringLiteral("not a slash command: %1").arg(line.left(40));
        return false;
    }
    const QString owner = commandOwner(m.captured(1));
    if (owner.isEmpty()) {
        if (error) *error = QStringLiteral("no plugin provides /%1").arg(m.captured(1));
        return false;
    }
    return runCommand(owner, m.captured(1), m.captured(2).trimmed(), error);
}

bool PluginHost::runMessageAction(const QString& pluginId, const QString& actionId, const ChatMessage& message,
                                  const QString& argument, QString* error) {
    Entry* e = enabledEntry(pluginId, error);
    if (!e) return false;
    const auto& acts = e->info.manifest.messageActions;
    if (std::none_of(acts.begin(), acts.end(), [&](const MessageActionContribution& a) { return a.id == actionId; })) {
        if (error) *error = QStringLiteral("plugin '%1' has no message action '%2'").arg(pluginId, actionId);
        return false;
    }
    PluginRuntime* rt = e->runtime;
    post(*e, [rt, actionId, message, argument] { rt->runMessageAction(actionId, message, argument); });
    return true;
}

bool PluginHost::isIdle(const QString& pluginId) const {
    auto it = entries_.find(pluginId);
    if (it == entries_.end()) return true;
    return !(*it)->info.enabled || ((*it)->outstanding == 0 && (*it)->running == 0);
}

bool PluginHost::waitForIdle(const QString& pluginId, int timeoutMs) {
    if (isIdle(pluginId)) return true;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    auto check = [&](const QString& id) {
        if (id == pluginId && isIdle(pluginId)) loop.quit();
    };
    const auto c1 = connect(this, &PluginHost::pluginIdle, &loop, check);
    const auto c2 = connect(this, &PluginHost::pluginDisabled, &loop, [&](const QString& id, const QString&) { check(id); });
    timer.start(timeoutMs);
    loop.exec();
    disconnect(c1);
    disconnect(c2);
    return isIdle(pluginId);
}

void PluginHost::checkIdle(Entry& e) {
    if (e.outstanding == 0 && e.running == 0) emit pluginIdle(e.info.manifest.id);
}

void PluginHost::onCallDone(const QString& id, int running) {
    const auto e = entries_.value(id);
    if (!e) return;
    e->outstanding = qMax(0, e->outstanding - 1);
    e->running = running;
    checkIdle(*e);
}

void PluginHost::onCompletionDone(const QString& id, int running) {
    const auto e = entries_.value(id);
    if (!e) return;
    e->running = running;
    checkIdle(*e);
}

void PluginHost::onFailed(const QString& id, const QString& message) {
    const auto e = entries_.value(id);
    if (!e || !e->info.enabled) return;
    e->info.enabled = false;
    e->info.error = message;
    e->outstanding = 0;
    e->running = 0;
    // The runtime is finished with; its thread ends and deletes it (and the script engine).
    e->runtime = nullptr;
    e->thread->quit();
    emit pluginDisabled(id, message);
    emit pluginIdle(id);
}

}  // namespace bonsai::plugins
