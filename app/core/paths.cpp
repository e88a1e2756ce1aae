#include "core/paths.h"

#include <QDir>
#include <QFileInfo>

namespace bonsai::core {

namespace {
QString envOr(const char* name, const QString& fallback) {
    const QString v = qEnvironmentVariable(name);
    return v.isEmpty() ? fallback : v;
}
QString xdg(const char* var, const char* homeRelative) {
    const QString base = qEnvironmentVariable(var);
    // The spec says relative XDG paths are invalid and must be ignored.
    if (!base.isEmpty() && QDir::isAbsolutePath(base)) return base;
    return QDir::homePath() + QLatin1Char('/') + QLatin1String(homeRelative);
}
}  // namespace

AppPaths AppPaths::fromEnvironment() {
    AppPaths p;
    p.dataDir = envOr("BONSAI_DATA_DIR", xdg("XDG_DATA_HOME", ".local/share") + QStringLiteral("/bonsai"));
    p.configDir = envOr("BONSAI_CONFIG_DIR", xdg("XDG_CONFIG_HOME", ".config") + QStringLiteral("/bonsai"));
    p.cacheDir = xdg("XDG_CACHE_HOME", ".cache") + QStringLiteral("/bonsai");
    return p;
}

QString AppPaths::databasePath(const QString& profile) const {
    return dataDir + QStringLiteral("/profiles/") + profile + QStringLiteral(".sqlite3");
}

QString AppPaths::userPluginDir() const { return dataDir + QStringLiteral("/plugins"); }
QString AppPaths::userModelDir() const { return dataDir + QStringLiteral("/models"); }

QString bundledDefaultModel(const QString& applicationDir) {
    const QString fromEnv = qEnvironmentVariable("BONSAI_DEFAULT_MODEL");
    if (!fromEnv.isEmpty()) return QFileInfo::exists(fromEnv) ? fromEnv : QString();
    const QStringList candidates{
        applicationDir + QStringLiteral("/../share/bonsai/models/bonsai-default.gguf"),
        QStringLiteral(BONSAI_SOURCE_DIR "/resources/models/bonsai-default.gguf"),
    };
    for (const QString& c : candidates)
        if (QFileInfo::exists(c)) return QFileInfo(c).canonicalFilePath();
    return QString();
}

}  // namespace bonsai::core
