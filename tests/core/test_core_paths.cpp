// XDG directory resolution and the bundled-model lookup.
#include <QTemporaryDir>
#include <QtTest>

#include "core/paths.h"

class TestCorePaths : public QObject {
    Q_OBJECT
private slots:
    void init() {
        qunsetenv("BONSAI_DATA_DIR");
        qunsetenv("BONSAI_CONFIG_DIR");
        qunsetenv("BONSAI_DEFAULT_MODEL");
    }
    void followsXdgVariables() {
        qputenv("XDG_DATA_HOME", "/tmp/xdg-data");
        qputenv("XDG_CONFIG_HOME", "/tmp/xdg-config");
        const auto p = bonsai::core::AppPaths::fromEnvironment();
        QCOMPARE(p.dataDir, QStringLiteral("/tmp/xdg-data/bonsai"));
        QCOMPARE(p.configDir, QStringLiteral("/tmp/xdg-config/bonsai"));
        QCOMPARE(p.databasePath(), QStringLiteral("/tmp/xdg-data/bonsai/profiles/default.sqlite3"));
        QCOMPARE(p.userPluginDir(), QStringLiteral("/tmp/xdg-data/bonsai/plugins"));
    }
    void relativeXdgIsIgnored() {
        qputenv("HOME", "/home/someone");
        qputenv("XDG_DATA_HOME", "relative/path");
        const auto p = bonsai::core::AppPaths::fromEnvironment();
        QCOMPARE(p.dataDir, QStringLiteral("/home/someone/.local/share/bonsai"));
    }
    void explicitOverrideWins() {
        qputenv("BONSAI_DATA_DIR", "/srv/bonsai-test");
        QCOMPARE(bonsai::core::AppPaths::fromEnvironment().dataDir, QStringLiteral("/srv/bonsai-test"));
    }
    void defaultModelFromEnvironmentMustExist() {
        QTemporaryDir dir;
        const QString model = dir.filePath(QStringLiteral("m.gguf"));
        qputenv("BONSAI_DEFAULT_MODEL", model.toUtf8());
        QVERIFY(bonsai::core::bundledDefaultModel(dir.path()).isEmpty());
        QFile f(model);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        QCOMPARE(bonsai::core::bundledDefaultModel(dir.path()), model);
    }
    void defaultModelFoundBesideInstalledBinary() {
        QTemporaryDir prefix;
        QVERIFY(QDir(prefix.path()).mkpath(QStringLiteral("bin")));
        QVERIFY(QDir(prefix.path()).mkpath(QStringLiteral("share/bonsai/models")));
        QFile f(prefix.filePath(QStringLiteral("share/bonsai/models/bonsai-default.gguf")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        const QString found = bonsai::core::bundledDefaultModel(prefix.filePath(QStringLiteral("bin")));
        QCOMPARE(found, QFileInfo(f.fileName()).canonicalFilePath());
    }
};

QTEST_GUILESS_MAIN(TestCorePaths)
#include "test_core_paths.moc"
