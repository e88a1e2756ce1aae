#pragma once
// Where plugins live and how a plugin folder is read. A plugin is a folder holding plugin.json and the
// file its `main` names; each plugin directory holds such folders, one level deep.
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

#include "host/manifest.h"

namespace bonsai::plugins {

// At most this many plugin folders are read from one plugin directory.
inline constexpr int kMaxPluginsPerDir = 256;

// The default plugin directories, in priority order (a plugin id found earlier wins):
//   1. <applicationDir>/../share/bonsai/plugins (an installed app), or, when that does not exist,
//      the source tree's plugins/builtin (a development build);
//   2. the user's: $BONSAI_DATA_DIR/plugins, else $XDG_DATA_HOME/bonsai/plugins, else ~/.local/share/bonsai/plugins.
QStringList defaultPluginDirs(const QString& applicationDir);

// Where plugin settings are kept: $BONSAI_CONFIG_DIR/plugins, else $XDG_CONFIG_HOME/bonsai/plugins,
// else ~/.config/bonsai/plugins.
QString defaultSettingsDir();

struct DiscoveredPlugin {
    QString folder;                          // absolute path of the plugin folder
    std::optional<PluginManifest> manifest;  // set when the folder is a valid plugin
    QString error;                           // otherwise: why not, e.g. "plugin.json: missing required field 'id'"
};

// Reads and validates one plugin folder: plugin.json (size-limited before reading), and `main` being a
// regular file that really lies inside the folder (no symlink out of it). Never throws.
DiscoveredPlugin readPluginFolder(const QString& folder);

// Every sub-folder with a plugin.json in `dirs` (missing dirs are skipped), sorted by name within a dir.
QList<DiscoveredPlugin> discoverPlugins(const QStringList& dirs);

}  // namespace bonsai::plugins
