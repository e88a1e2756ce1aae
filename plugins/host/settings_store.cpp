#include "host/settings_store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>

#include "api/plugin_api.h"

namespace bonsai::plugins {

SettingsStore::SettingsStore(QString filePath, qsizetype limitBytes) : filePath_(std::move(filePath)), limit_(limitBytes) {
    QFile f(filePath_);
    if (!f.exists()) return;
    // Never read more than the limit allows (plus slack): a huge file is treated as corrupt.
    if (f.size() > limit_ + 1024) {
        loadError_ = QStringLiteral("%1 is larger than the settings limit; starting empty").arg(filePath_);
        return;
    }
    if (!f.open(QIODevice::ReadOnly)) {
        loadError_ = QStringLiteral("cannot read %1: %2").arg(filePath_, f.errorString());
        return;
    }
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject()) {
        loadError_ = QStringLiteral("%1 is not a JSON object; starting empty").arg(filePath_);
        return;
    }
    values_ = doc.object();
}

QJsonValue SettingsStore::value(const QString& key) const {
    return values_.contains(key) ? values_.value(key) : QJsonValue(QJsonValue::Undefined);
}

QStringList SettingsStore::keys() const { return values_.keys(); }

void SettingsStore::setValue(const QString& key, const QJsonValue& value) {
    if (key.isEmpty() || key.size() > 128)
        throw PluginError(QStringLiteral("settings: a key must have 1 to 128 characters"));
    QJsonObject next = values_;
    if (value.isUndefined() || value.isNull()) next.remove(key);
    else next.insert(key, value);
    const QByteArray bytes = QJsonDocument(next).toJson(QJsonDocument::Compact);
    if (bytes.size() > limit_)
        throw PluginError(QStringLiteral("settings: storing '%1' would make the plugin's settings %2 bytes, over the limit of %3")
                              .arg(key).arg(bytes.size()).arg(limit_));
    QDir().mkpath(QFileInfo(filePath_).absolutePath());
    QSaveFile out(filePath_);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit())
        throw PluginError(QStringLiteral("settings: cannot save %1: %2").arg(filePath_, out.errorString()));
    values_ = std::move(next);
}

}  // namespace bonsai::plugins
