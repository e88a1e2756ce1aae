#pragma once
// Where cloud API keys live: the OS keychain (Secret Service on Linux, through QtKeychain). Keys are
// never written to SQLite, settings files or logs. Without a keyring the key is kept for this session
// only, unless the user explicitly chose a private (0600) key file.
#include <QHash>
#include <QString>

namespace bonsai::core {

class SecretStore {
public:
    enum class Backend {
        Keychain,    // the OS keychain answered
        SessionOnly, // no keychain: kept in memory until the app exits
        File,        // no keychain and the user chose a 0600 file
    };

    // `service` namespaces the entries ("bonsai"); `fileFallback` is empty unless the user opted in.
    explicit SecretStore(QString service = QStringLiteral("bonsai"), QString fileFallback = QString());

    // Stores a secret under `key` (e.g. "cloud/https://api.example.com/v1"). Returns the backend used.
    Backend write(const QString& key, const QString& secret);
    // Reads it back; empty when absent anywhere.
    QString read(const QString& key);
    void remove(const QString& key);

    // Whether the keychain is usable right now (probes it once and remembers).
    bool keychainAvailable();
    // A user-facing explanation after a write that could not use the keychain.
    QString lastWarning() const { return warning_; }

    // Lets the user opt into a private key file (created 0600) when no keyring exists.
    void setFileFallback(const QString& path) { fileFallback_ = path; }

private:
    bool keychainWrite(const QString& key, const QString& secret, QString* error);
    bool keychainRead(const QString& key, QString* secret, QString* error, bool* notFound);
    void keychainRemove(const QString& key);
    QHash<QString, QString> readFile() const;
    bool writeFile(const QHash<QString, QString>& entries) const;

    QString service_;
    QString fileFallback_;
    QHash<QString, QString> session_;
    int available_ = -1;  // -1 unknown, 0 no, 1 yes
    QString warning_;
};

}  // namespace bonsai::core
