#include "host/native_runtime.h"

#include <QDir>
#include <QJsonObject>

#include "api/plugin_interface.h"

namespace bonsai::plugins {

void NativeRuntime::load() {
    const QString path = QDir(folder_).filePath(manifest_.main);
    loader_ = new QPluginLoader(path, this);
    const QString iid = loader_->metaData().value(QStringLiteral("IID")).toString();
    if (iid.isEmpty()) throw PluginError(QStringLiteral("%1 is not a Qt plugin: %2").arg(manifest_.main, loader_->errorString()));
    if (iid != QLatin1String(BonsaiPluginInterface_iid))
        throw PluginError(QStringLiteral("%1 implements '%2', not '%3'").arg(manifest_.main, iid, QLatin1String(BonsaiPluginInterface_iid)));
    QObject* root = loader_->instance();
    if (!root) throw PluginError(QStringLiteral("cannot load %1: %2").arg(manifest_.main, loader_->errorString()));
    auto* plugin = qobject_cast<BonsaiPluginInterface*>(root);
    if (!plugin) throw PluginError(QStringLiteral("%1 does not implement BonsaiPluginInterface").arg(manifest_.main));
    plugin->initialize(&context_);
}

}  // namespace bonsai::plugins
