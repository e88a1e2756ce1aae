#pragma once
// A plugin's own key/value settings: a JSON object in <settingsDir>/<plugin id>.json, written on every
// change (atomically, through QSaveFile). The serialized object may not grow past a byte limit, so a
// plugin cannot fill the disk. Used from the plugin's worker thread only.
#include <QJsonObject>
#include <QString>

namespace bonsai::plugins {

// Default limit of one plugin's settings file.
inline constexpr qsizetype kDefaultSettingsLimitBytes = 64 * 1024;

class SettingsStore {
public:
    // Reads `filePath` if it exists; a missing, unreadable or corrupt file starts empty (and loadError()
    // says why), it never fails construction.
    SettingsStore(QString filePath, qsizetype limitBytes = kDefaultSettingsLimitBytes);

    // The value of `key`, or an undefined QJsonValue.
    QJsonValue value(const QString& key) const;
    // Sets (or, for an undefined/null value, removes) `key` and saves. Throws PluginError when the key is
    // empty or longer than 128 characters, when the result would exceed the limit, or when saving fails.
    void setValue(const QString& key, const QJsonValue& value);
    // All keys, sorted.
    QStringList keys() const;

    const QString& loadError() const { return loadError_; }

private:
    QString filePath_;
    qsizetype limit_;
    QJsonObject values_;
    QString loadError_;
};

}  // namespace bonsai::plugins
