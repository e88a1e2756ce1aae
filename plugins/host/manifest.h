#pragma once
// plugin.json: what a plugin declares about itself. Parsed from untrusted bytes: every field is checked
// and a bad manifest yields a message naming the field, never a crash.
#include <QByteArray>
#include <QString>
#include <QStringList>
#include <optional>

namespace bonsai::plugins {

// The plugin API version this host implements. A manifest asking for a newer one is refused.
inline constexpr int kApiVersion = 1;
// Manifests larger than this are refused before parsing.
inline constexpr qsizetype kMaxManifestBytes = 64 * 1024;

struct CommandContribution {
    QString name;         // slash command word without the slash, e.g. "translate"
    QString description;  // one line shown in the composer's completion list
};

struct MessageActionContribution {
    QString id;     // unique inside the plugin, e.g. "translate-to"
    QString title;  // menu text, e.g. "Translate to…"
};

// How a plugin's code runs.
enum class PluginType {
    JavaScript,  // "type": "javascript" (the default): `main` is a script run in a sandboxed QJSEngine
    Native,      // "type": "native": `main` is a Qt plugin library implementing BonsaiPluginInterface
};

struct PluginManifest {
    QString id;           // reverse-DNS-ish identifier: [a-z0-9][a-z0-9.-]*, at most 64 chars
    QString name;         // human-readable name
    QString version;      // the plugin's own version string
    int apiVersion = 0;   // the host API version it was written for (1..kApiVersion)
    QString description;
    QStringList permissions;  // subset of knownPermissions()
    QList<CommandContribution> commands;
    QList<MessageActionContribution> messageActions;
    QString main;         // entry file relative to the plugin folder, default "main.js" (required for native)
    PluginType type = PluginType::JavaScript;

    // Permissions a manifest may ask for.
    static const QStringList& knownPermissions();
};

struct ManifestResult {
    std::optional<PluginManifest> manifest;  // set on success
    QString error;                           // set on failure: "plugin.json: 'permissions[1]': unknown permission 'net'"
};

// Parses and validates plugin.json bytes. Never throws.
ManifestResult parseManifest(const QByteArray& bytes);

}  // namespace bonsai::plugins
