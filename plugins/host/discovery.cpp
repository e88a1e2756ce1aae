#include "host/discovery.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace bonsai::plugins {

namespace {

QString envDir(const char* name) {
    const QString v = qEnvironmentVariable(name);
    return v.isEmpty() ? QString() : QDir::cleanPath(v);
}

}  // namespace

QStringList defaultPluginDirs(const QString& applicationDir) {
    QStringList dirs;
    const QString installed = QDir::cleanPath(applicationDir + QStringLiteral("/../share/bonsai/plugins"));
    if (QFileInfo(installed).isDir()) dirs << installed;
#ifdef BONSAI_PLUGINS_SOURCE_DIR
    else if (QFileInfo(QStringLiteral(BONSAI_PLUGINS_SOURCE_DIR "/builtin")).isDir())
        dirs << QStringLiteral(BONSAI_PLUGINS_SOURCE_DIR "/builtin");
#endif
    if (QString d = envDir("BONSAI_DATA_DIR"); !d.isEmpty()) dirs << d + QStringLiteral("/plugins");
    else if (QString x = envDir("XDG_DATA_HOME"); !x.isEmpty()) dirs << x + QStringLiteral("/bonsai/plugins");
    else dirs << QDir::homePath() + QStringLiteral("/.local/share/bonsai/plugins");
    return dirs;
}

QString defaultSettingsDir() {
    if (QString d = envDir("BONSAI_CONFIG_DIR"); !d.isEmpty()) return d + QStringLiteral("/plugins");
    if (QString x = envDir("XDG_CONFIG_HOME"); !x.isEmpty()) return x + QStringLiteral("/bonsai/plugins");
    return QDir::homePath() + QStringLiteral("/.config/bonsai/plugins");
}

DiscoveredPlugin readPluginFolder(const QString& folder) {
    DiscoveredPlugin d;
    d.folder = QFileInfo(folder).absoluteFilePath();
    QFile f(QDir(d.folder).filePath(QStringLiteral("plugin.json")));
    if (!f.open(QIODevice::ReadOnly)) {
        d.error = QStringLiteral("plugin.json: cannot read: %1").arg(f.errorString());
        return d;
    }
    // Read one byte past the limit so parseManifest sees an oversized file as such.
    ManifestResult r = parseManifest(f.read(kMaxManifestBytes + 1));
    if (!r.manifest) {
        d.error = r.error;
        return d;
    }
    const QFileInfo main(QDir(d.folder).filePath(r.manifest->main));
    const QString root = QFileInfo(d.folder).canonicalFilePath();
    const QString target = main.canonicalFilePath();
    if (!main.exists() || !main.isFile()) {
        d.error = QStringLiteral("plugin.json: 'main' names %1, which is not a file in the plugin folder").arg(r.manifest->main);
        return d;
    }
    if (root.isEmpty() || !target.startsWith(root + QLatin1Char('/'))) {
        d.error = QStringLiteral("plugin.json: 'main' (%1) leads outside the plugin folder").arg(r.manifest->main);
        return d;
    }
    d.manifest = std::move(r.manifest);
    return d;
}

QList<DiscoveredPlugin> discoverPlugins(const QStringList& dirs) {
    QList<DiscoveredPlugin> out;
    for (const QString& dir : dirs) {
        const QDir d(dir);
        if (!d.exists()) continue;
        const QStringList subs = d.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        int n = 0;
        for (const QString& sub : subs) {
            if (!QFileInfo::exists(d.filePath(sub + QStringLiteral("/plugin.json")))) continue;
            if (++n > kMaxPluginsPerDir) break;
            out << readPluginFolder(d.filePath(sub));
        }
    }
    return out;
}

}  // namespace bonsai::plugins
