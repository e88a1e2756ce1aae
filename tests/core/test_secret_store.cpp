// API keys: in the real Secret Service when one runs (ctest starts a private D-Bus session with
// gnome-keyring for the "keyring" variant), otherwise session-only or an explicit 0600 file.
// Canary: the key never appears in plain text in any file under HOME except the file the user chose.
#include <QDirIterator>
#include <QTemporaryDir>
#include <QtTest>

#include "core/secret_store.h"

using bonsai::core::SecretStore;

namespace {
const QString kCanary = QStringLiteral("sk-canary-7f3e9a1c52b84d6e");

// Every file under `root` whose bytes contain `needle`.
QStringList filesContaining(const QString& root, const QByteArray& needle, const QString& except = QString()) {
    QStringList hits;
    QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (path == except) continue;
        QFile f(path);
        if (f.open(QIODevice::ReadOnly) && f.readAll().contains(needle)) hits << path;
    }
    return hits;
}
bool expectKeyring() { return qEnvironmentVariable("BONSAI_EXPECT_KEYRING") == QStringLiteral("1"); }
}  // namespace

class TestSecretStore : public QObject {
    Q_OBJECT
private slots:
    void keychainOrSessionOnly() {
        SecretStore store(QStringLiteral("bonsai-test"));
        QCOMPARE(store.keychainAvailable(), expectKeyring());
        const auto backend = store.write(QStringLiteral("cloud/test"), kCanary);
        if (expectKeyring()) {
            QCOMPARE(backend, SecretStore::Backend::Keychain);
            QVERIFY(store.lastWarning().isEmpty());
            // A fresh store (as after a restart) still finds it in the keyring.
            SecretStore again(QStringLiteral("bonsai-test"));
            QCOMPARE(again.read(QStringLiteral("cloud/test")), kCanary);
            again.remove(QStringLiteral("cloud/test"));
            QVERIFY(SecretStore(QStringLiteral("bonsai-test")).read(QStringLiteral("cloud/test")).isEmpty());
        } else {
            QCOMPARE(backend, SecretStore::Backend::SessionOnly);
            QVERIFY2(store.lastWarning().contains(QStringLiteral("this session only")), qPrintable(store.lastWarning()));
            QCOMPARE(store.read(QStringLiteral("cloud/test")), kCanary);
            QVERIFY(SecretStore(QStringLiteral("bonsai-test")).read(QStringLiteral("cloud/test")).isEmpty());
        }
        QVERIFY2(filesContaining(QDir::homePath(), kCanary.toUtf8()).isEmpty(),
                 qPrintable(filesContaining(QDir::homePath(), kCanary.toUtf8()).join(QLatin1Char(','))));
    }
    void explicitFileFallbackIsPrivate() {
        if (expectKeyring()) QSKIP("the keyring is available in this variant; the file is only used without one");
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("config/keys.json"));
        SecretStore store(QStringLiteral("bonsai-test"), file);
        QCOMPARE(store.write(QStringLiteral("cloud/x"), kCanary), SecretStore::Backend::File);
        QCOMPARE(QFileInfo(file).permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther),
                 QFileDevice::Permissions());
        QCOMPARE(SecretStore(QStringLiteral("bonsai-test"), file).read(QStringLiteral("cloud/x")), kCanary);
        QVERIFY(filesContaining(dir.path(), kCanary.toUtf8(), file).isEmpty());
        store.remove(QStringLiteral("cloud/x"));
        QVERIFY(SecretStore(QStringLiteral("bonsai-test"), file).read(QStringLiteral("cloud/x")).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSecretStore)
#include "test_secret_store.moc"
