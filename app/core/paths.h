#pragma once
// Where Bonsai keeps things on disk, following the XDG base-directory spec.
// Every directory can be overridden (tests point them at a temporary folder).
#include <QString>

namespace bonsai::core {

struct AppPaths {
    QString dataDir;    // $BONSAI_DATA_DIR, else $XDG_DATA_HOME/bonsai, else ~/.local/share/bonsai
    QString configDir;  // $BONSAI_CONFIG_DIR, else $XDG_CONFIG_HOME/bonsai, else ~/.config/bonsai
    QString cacheDir;   // $XDG_CACHE_HOME/bonsai, else ~/.cache/bonsai

    // Resolves the directories from the environment; creates nothing.
    static AppPaths fromEnvironment();
    // The conversation/context database of a profile: <dataDir>/profiles/<profile>.sqlite3.
    QString databasePath(const QString& profile = QStringLiteral("default")) const;
    // The user's plugin directory: <dataDir>/plugins.
    QString userPluginDir() const;
    // The user's model directory: <dataDir>/models.
    QString userModelDir() const;
};

// The bundled default model: $BONSAI_DEFAULT_MODEL, else the first existing of
// <exe>/../share/bonsai/models/bonsai-default.gguf and the source tree's resources/models/bonsai-default.gguf.
// Empty when none exists.
QString bundledDefaultModel(const QString& applicationDir);

}  // namespace bonsai::core
