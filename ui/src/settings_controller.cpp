#include "settings_controller.h"

#include <QSettings>
#include <QUrl>

#include "core/secret_store.h"

namespace bonsai::ui {

namespace {
const QString kKeyName = QStringLiteral("cloud-api-key");
}

SettingsController::SettingsController(core::SecretStore* secrets, QObject* parent)
    : QObject(parent), secrets_(secrets) {
    // Reading the keyring at start-up can be slow; ask only whether a key was saved before.
    hasKey_ = QSettings().value(QStringLiteral("cloud/hasKey"), false).toBool();
}

QVariant SettingsController::get(const QString& key, const QVariant& fallback) const {
    return QSettings().value(key, fallback);
}

void SettingsController::set(const QString& key, const QVariant& value) {
    QSettings s;
    if (s.value(key) == value) return;
    s.setValue(key, value);
    emit changed();
}

void SettingsController::setCloudBaseUrl(const QString& v) {
    const QUrl url(v.trimmed());
    if (!url.isValid() || (url.scheme() != QStringLiteral("https") && url.scheme() != QStringLiteral("http"))) {
        status_ = tr("The endpoint must be an http(s) URL such as https://api.openai.com/v1.");
        emit statusChanged();
        return;
    }
    set(QStringLiteral("cloud/baseUrl"), v.trimmed());
}

void SettingsController::setTheme(const QString& v) {
    if (v != QStringLiteral("light") && v != QStringLiteral("dark") && v != QStringLiteral("system")) return;
    set(QStringLiteral("ui/theme"), v);
}

void SettingsController::setApiKey(const QString& key) {
    if (!secrets_) return;
    if (key.trimmed().isEmpty()) {
        secrets_->remove(kKeyName);
        hasKey_ = false;
        status_ = tr("API key removed.");
    } else {
        const auto backend = secrets_->write(kKeyName, key.trimmed());
        hasKey_ = true;
        status_ = backend == core::SecretStore::Backend::Keychain
                      ? tr("API key saved in the system keyring.")
                      : tr("API key kept: %1").arg(secrets_->lastWarning());
    }
    QSettings().setValue(QStringLiteral("cloud/hasKey"), hasKey_);
    emit statusChanged();
    emit changed();
}

QString SettingsController::apiKey() const {
    return secrets_ && hasKey_ ? secrets_->read(kKeyName) : QString();
}

}  // namespace bonsai::ui
