#include "host/manifest.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace bonsai::plugins {

const QStringList& PluginManifest::knownPermissions() {
    static const QStringList perms{QStringLiteral("model"), QStringLiteral("conversation.read"),
                                   QStringLiteral("context.read"), QStringLiteral("clipboard")};
    return perms;
}

namespace {

struct Fail {
    QString message;
};

QString requireString(const QJsonObject& o, const QString& key, const QString& where, int maxLen) {
    if (!o.contains(key)) throw Fail{QStringLiteral("%1: missing required field '%2'").arg(where, key)};
    const QJsonValue v = o.value(key);
    if (!v.isString()) throw Fail{QStringLiteral("%1: '%2' must be a string").arg(where, key)};
    const QString s = v.toString();
    if (s.trimmed().isEmpty()) throw Fail{QStringLiteral("%1: '%2' must not be empty").arg(where, key)};
    if (s.size() > maxLen) throw Fail{QStringLiteral("%1: '%2' is longer than %3 characters").arg(where, key).arg(maxLen)};
    return s;
}

QString optionalString(const QJsonObject& o, const QString& key, const QString& where, int maxLen) {
    if (!o.contains(key)) return QString();
    const QJsonValue v = o.value(key);
    if (!v.isString()) throw Fail{QStringLiteral("%1: '%2' must be a string").arg(where, key)};
    if (v.toString().size() > maxLen)
        throw Fail{QStringLiteral("%1: '%2' is longer than %3 characters").arg(where, key).arg(maxLen)};
    return v.toString();
}

QJsonArray optionalArray(const QJsonObject& o, const QString& key, const QString& where, int maxItems) {
    if (!o.contains(key)) return {};
    const QJsonValue v = o.value(key);
    if (!v.isArray()) throw Fail{QStringLiteral("%1: '%2' must be an array").arg(where, key)};
    const QJsonArray a = v.toArray();
    if (a.size() > maxItems) throw Fail{QStringLiteral("%1: '%2' has more than %3 entries").arg(where, key).arg(maxItems)};
    return a;
}

PluginManifest parse(const QByteArray& bytes) {
    const QString file = QStringLiteral("plugin.json");
    if (bytes.size() > kMaxManifestBytes)
        throw Fail{QStringLiteral("%1: larger than %2 KiB").arg(file).arg(kMaxManifestBytes / 1024)};
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &err);
    if (err.error != QJsonParseError::NoError)
        throw Fail{QStringLiteral("%1: not valid JSON at offset %2: %3").arg(file).arg(err.offset).arg(err.errorString())};
    if (!doc.isObject()) throw Fail{QStringLiteral("%1: the top level must be an object").arg(file)};
    const QJsonObject o = doc.object();

    PluginManifest m;
    m.id = requireString(o, QStringLiteral("id"), file, 64);
    // \z, not $: PCRE's $ also matches before a final newline, which let "id\n" through (found by fuzz_manifest).
    static const QRegularExpression idRe(QStringLiteral("^[a-z0-9][a-z0-9.\\-]*\\z"));
    if (!idRe.match(m.id).hasMatch())
        throw Fail{QStringLiteral("%1: 'id' may only contain lower-case letters, digits, '.' and '-'").arg(file)};
    m.name = requireString(o, QStringLiteral("name"), file, 128);
    m.version = requireString(o, QStringLiteral("version"), file, 32);
    m.description = optionalString(o, QStringLiteral("description"), file, 1024);

    if (!o.contains(QStringLiteral("apiVersion"))) throw Fail{QStringLiteral("%1: missing required field 'apiVersion'").arg(file)};
    const QJsonValue api = o.value(QStringLiteral("apiVersion"));
    if (!api.isDouble() || api.toDouble() != static_cast<double>(api.toInt()))
        throw Fail{QStringLiteral("%1: 'apiVersion' must be an integer").arg(file)};
    m.apiVersion = api.toInt();
    if (m.apiVersion < 1 || m.apiVersion > kApiVersion)
        throw Fail{QStringLiteral("%1: apiVersion %2 is not supported (this Bonsai supports 1..%3)")
                       .arg(file).arg(m.apiVersion).arg(kApiVersion)};

    const QJsonArray perms = optionalArray(o, QStringLiteral("permissions"), file, 16);
    for (int i = 0; i < perms.size(); ++i) {
        const QString where = QStringLiteral("%1: 'permissions[%2]'").arg(file).arg(i);
        if (!perms[i].isString()) throw Fail{where + QStringLiteral(" must be a string")};
        const QString p = perms[i].toString();
        if (!PluginManifest::knownPermissions().contains(p)) throw Fail{where + QStringLiteral(": unknown permission '%1'").arg(p)};
        if (!m.permissions.contains(p)) m.permissions << p;
    }

    const QString type = optionalString(o, QStringLiteral("type"), file, 16);
    if (type == QLatin1String("native")) m.type = PluginType::Native;
    else if (!type.isEmpty() && type != QLatin1String("javascript"))
        throw Fail{QStringLiteral("%1: 'type' must be \"javascript\" or \"native\", not '%2'").arg(file, type)};

    m.main = optionalString(o, QStringLiteral("main"), file, 256);
    if (m.main.isEmpty()) {
        if (m.type == PluginType::Native)
            throw Fail{QStringLiteral("%1: a native plugin must name its library in 'main'").arg(file)};
        m.main = QStringLiteral("main.js");
    }
    if (m.main.contains(QStringLiteral("..")) || m.main.startsWith(QLatin1Char('/')) ||
        m.main.contains(QLatin1Char('\\')) || m.main.contains(QLatin1Char(':')))
        throw Fail{QStringLiteral("%1: 'main' must be a file inside the plugin folder").arg(file)};

    if (o.contains(QStringLiteral("contributes"))) {
        const QJsonValue cv = o.value(QStringLiteral("contributes"));
        if (!cv.isObject()) throw Fail{QStringLiteral("%1: 'contributes' must be an object").arg(file)};
        const QJsonObject c = cv.toObject();
        const QJsonArray cmds = optionalArray(c, QStringLiteral("commands"), file + QStringLiteral(": contributes"), 64);
        static const QRegularExpression cmdRe(QStringLiteral("^[a-z][a-z0-9\\-]{0,31}\\z"));
        for (int i = 0; i < cmds.size(); ++i) {
            const QString where = QStringLiteral("%1: 'contributes.commands[%2]'").arg(file).arg(i);
            if (!cmds[i].isObject()) throw Fail{where + QStringLiteral(" must be an object")};
            CommandContribution cmd;
            cmd.name = requireString(cmds[i].toObject(), QStringLiteral("name"), where, 32);
            if (!cmdRe.match(cmd.name).hasMatch())
                throw Fail{where + QStringLiteral(": command name '%1' must be lower-case letters, digits or '-'").arg(cmd.name)};
            cmd.description = optionalString(cmds[i].toObject(), QStringLiteral("description"), where, 256);
            m.commands << cmd;
        }
        const QJsonArray acts = optionalArray(c, QStringLiteral("messageActions"), file + QStringLiteral(": contributes"), 64);
        for (int i = 0; i < acts.size(); ++i) {
            const QString where = QStringLiteral("%1: 'contributes.messageActions[%2]'").arg(file).arg(i);
            if (!acts[i].isObject()) throw Fail{where + QStringLiteral(" must be an object")};
            MessageActionContribution a;
            a.id = requireString(acts[i].toObject(), QStringLiteral("id"), where, 64);
            a.title = requireString(acts[i].toObject(), QStringLiteral("title"), where, 128);
            m.messageActions << a;
        }
    }
    return m;
}

}  // namespace

ManifestResult parseManifest(const QByteArray& bytes) {
    ManifestResult r;
    try {
        r.manifest = parse(bytes);
    } catch (const Fail& f) {
        r.error = f.message;
    }
    return r;
}

}  // namespace bonsai::plugins
