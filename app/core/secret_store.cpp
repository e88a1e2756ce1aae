#include "core/secret_store.h"

#include <qt6keychain/keychain.h>
#include <sys/stat.h>

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace bonsai::core {

namespace {
// QtKeychain jobs are asynchronous; API keys are read rarely, so run each job to completion.
void runJob(QKeychain::Job& job) {
    job.setAutoDelete(false);
    QEventLoop loop;
    QObject::connect(&job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
    job.start();
    loop.exec();
}
}  // namespace

SecretStore::SecretStore(QString service, QString fileFallback)
    : service_(std::move(service)), fileFallback_(std::move(fileFallback)) {}

bool SecretStore::keychainAvailable() {
    if (available_ < 0) {
        if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS")) {
            available_ = 0;  // no session bus: the Secret Service cannot be reached
        } else {
            QString secret, error;
            bool notFound = false;
            const bool ok = keychainRead(QStringLiteral("__bonsai_probe__"), &secret, &error, &notFound);
            available_ = (ok || notFound) ? 1 : 0;
        }
    }
    return available_ == 1;
}

bool SecretStore::keychainWrite(const QString& key, const QString& secret, QString* error) {
    QKeychain::WritePasswordJob job(service_);
    job.setInsecureFallback(false);  // never let QtKeychain write plaintext on its own
    job.setKey(key);
    job.setTextData(secret);
    runJob(job);
    if (job.error() != QKeychain::NoError) {
        *error = job.errorString();
        return false;
    }
    return true;
}

bool SecretStore::keychainRead(const QString& key, QString* secret, QString* error, bool* notFound) {
    QKeychain::ReadPasswordJob job(service_);
    job.setInsecureFallback(false);
    job.setKey(key);
    runJob(job);
    *notFound = job.error() == QKeychain::EntryNotFound;
    if (job.error() != QKeychain::NoError) {
        *error = job.errorString();
        return false;
    }
    *secret = job.textData();
    return true;
}

void SecretStore::keychainRemove(const QString& key) {
    QKeychain::DeletePasswordJob job(service_);
    job.setInsecureFallback(false);
    job.setKey(key);
    runJob(job);
}

SecretStore::Backend SecretStore::write(const QString& key, const QString& secret) {
    warning_.clear();
    if (keychainAvailable()) {
        QString error;
        if (keychainWrite(key, secret, &error)) {
            session_.remove(key);
            return Backend::Keychain;
        }
        warning_ = QObject::tr("The system keyring refused to store the key (%1).").arg(error);
    } else {
        warning_ = QObject::tr("No system keyring (Secret Service) is available.");
    }
    if (!fileFallback_.isEmpty()) {
        QHash<QString, QString> entries = readFile();
        entries.insert(key, secret);
        if (writeFile(entries)) {
            warning_ += QObject::tr(" The key was saved to %1, readable only by you.").arg(fileFallback_);
            return Backend::File;
        }
        warning_ += QObject::tr(" Saving it to %1 failed too.").arg(fileFallback_);
    }
    session_.insert(key, secret);
    warning_ += QObject::tr(" The key is kept for this session only; you will be asked again next time.");
    return Backend::SessionOnly;
}

QString SecretStore::read(const QString& key) {
    if (session_.contains(key)) return session_.value(key);
    if (keychainAvailable()) {
        QString secret, error;
        bool notFound = false;
        if (keychainRead(key, &secret, &error, &notFound)) return secret;
    }
    if (!fileFallback_.isEmpty()) return readFile().value(key);
    return QString();
}

void SecretStore::remove(const QString& key) {
    session_.remove(key);
    if (keychainAvailable()) keychainRemove(key);
    if (!fileFallback_.isEmpty() && QFileInfo::exists(fileFallback_)) {
        QHash<QString, QString> entries = readFile();
        if (entries.remove(key)) writeFile(entries);
    }
}

QHash<QString, QString> SecretStore::readFile() const {
    QHash<QString, QString> out;
    QFile f(fileFallback_);
    if (f.size() > 1024 * 1024 || !f.open(QIODevice::ReadOnly)) return out;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    for (auto it = o.begin(); it != o.end(); ++it) out.insert(it.key(), it.value().toString());
    return out;
}

bool SecretStore::writeFile(const QHash<QString, QString>& entries) const {
    QDir().mkpath(QFileInfo(fileFallback_).absolutePath());
    QJsonObject o;
    for (auto it = entries.begin(); it != entries.end(); ++it) o.insert(it.key(), it.value());
    // Create the file 0600 before any secret byte is written to it.
    const mode_t old = ::umask(077);
    QSaveFile f(fileFallback_);
    const bool opened = f.open(QIODevice::WriteOnly);
    ::umask(old);
    if (!opened) return false;
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(QJsonDocument(o).toJson(QJsonDocument::Compact));
    return f.commit();
}

}  // namespace bonsai::core
