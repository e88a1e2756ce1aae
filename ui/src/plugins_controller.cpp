#include "plugins_controller.h"

#include <QSettings>

#include "host/plugin_host.h"

namespace bonsai::ui {

namespace {
const QString kDisabledKey = QStringLiteral("plugins/disabled");
}

PluginsController::PluginsController(plugins::PluginHost* host, QObject* parent) : QObject(parent), host_(host) {
    if (host_) {
        connect(host_, &plugins::PluginHost::pluginLoaded, this, &PluginsController::refresh);
        connect(host_, &plugins::PluginHost::pluginDisabled, this, &PluginsController::refresh);
    }
    refresh();
}

bool PluginsController::isUserEnabled(const QString& id) const {
    return !QSettings().value(kDisabledKey).toStringList().contains(id);
}

void PluginsController::refresh() {
    QVariantList rows;
    if (host_) {
        for (const plugins::PluginInfo& p : host_->plugins()) {
            QStringList commands;
            for (const auto& c : p.manifest.commands) commands << u'/' + c.name;
            rows << QVariantMap{{QStringLiteral("id"), p.manifest.id},
                                {QStringLiteral("name"), p.manifest.name},
                                {QStringLiteral("version"), p.manifest.version},
                                {QStringLiteral("description"), p.manifest.description},
                                {QStringLiteral("permissions"), p.manifest.permissions.join(QStringLiteral(", "))},
                                {QStringLiteral("commands"), commands.join(QStringLiteral(" "))},
                                {QStringLiteral("enabled"), p.enabled && isUserEnabled(p.manifest.id)},
                                {QStringLiteral("failed"), !p.enabled},
                                {QStringLiteral("error"), p.error}};
        }
    }
    rows_ = rows;
    emit pluginsChanged();
}

void PluginsController::setEnabled(const QString& id, bool enabled) {
    QSettings s;
    QStringList disabled = s.value(kDisabledKey).toStringList();
    disabled.removeAll(id);
    if (!enabled) disabled << id;
    s.setValue(kDisabledKey, disabled);
    refresh();
}

}  // namespace bonsai::ui
