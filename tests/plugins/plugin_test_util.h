#pragma once
// Helpers for plugin tests: write a plugin folder into a temporary directory, build a host over a fake app.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "fake_host_services.h"
#include "host/plugin_host.h"

namespace plugintest {

struct PluginSpec {
    QString id;
    QStringList permissions;
    QStringList commands;
    QStringList actions;
    QString js;
};

// Writes <root>/<id>/plugin.json + main.js; returns the folder.
inline QString writePlugin(const QString& root, const PluginSpec& s) {
    const QString folder = root + QLatin1Char('/') + s.id;
    QDir().mkpath(folder);
    QJsonArray cmds, acts;
    for (const QString& c : s.commands) cmds.append(QJsonObject{{"name", c}, {"description", "test"}});
    for (const QString& a : s.actions) acts.append(QJsonObject{{"id", a}, {"title", "Test " + a}});
    const QJsonObject m{{"id", s.id}, {"name", "Test " + s.id}, {"version", "1.0"}, {"apiVersion", 1},
                        {"permissions", QJsonArray::fromStringList(s.permissions)},
                        {"contributes", QJsonObject{{"commands", cmds}, {"messageActions", acts}}}};
    QFile mf(folder + "/plugin.json");
    if (!mf.open(QIODevice::WriteOnly)) return QString();
    mf.write(QJsonDocument(m).toJson());
    QFile js(folder + "/main.js");
    if (!js.open(QIODevice::WriteOnly)) return QString();
    js.write(s.js.toUtf8());
    return folder;
}

inline bonsai::plugins::HostOptions options(const QString& root, int timeoutMs = 2000) {
    bonsai::plugins::HostOptions o;
    o.pluginDirs = {root + "/plugins"};
    o.settingsDir = root + "/settings";
    o.timeoutMs = timeoutMs;
    return o;
}

}  // namespace plugintest
