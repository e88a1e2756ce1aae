// Fuzz target: the plugin manifest parser (plugins::parseManifest, plugin.json bytes).
//
// Invariants for any input (manifest.h): it never throws; exactly one of `manifest` and `error` is set;
// an accepted manifest is within the documented rules (size limit, id syntax and length, apiVersion
// 1..kApiVersion, permissions from knownPermissions(), non-empty name, 'main' inside the folder,
// command names [a-z][a-z0-9-]{0,31}).
#include <QByteArray>
#include <QString>

#include <exception>
#include <string>

#include "fuzz_common.h"
#include "host/manifest.h"

namespace {

constexpr const char* kTarget = "manifest";

bool valid_id(const QString& id) {
    if (id.isEmpty() || id.size() > 64) return false;
    for (qsizetype i = 0; i < id.size(); ++i) {
        const char16_t c = id[i].unicode();
        const bool alnum = (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9');
        if (!(alnum || (i > 0 && (c == u'.' || c == u'-')))) return false;
    }
    return true;
}

// [a-z][a-z0-9-]{0,31}, the whole string.
bool valid_command(const QString& name) {
    if (name.isEmpty() || name.size() > 32) return false;
    for (qsizetype i = 0; i < name.size(); ++i) {
        const char16_t c = name[i].unicode();
        const bool ok = (c >= u'a' && c <= u'z') || (i > 0 && ((c >= u'0' && c <= u'9') || c == u'-'));
        if (!ok) return false;
    }
    return true;
}

}  // namespace

int bonsai_fuzz_manifest(const uint8_t* data, size_t size) {
    using namespace bonsai::plugins;
    const QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    ManifestResult r;
    try {
        r = parseManifest(bytes);
    } catch (const std::exception& e) {
        bonsai::fuzz::fail(kTarget, std::string("parseManifest threw: ") + e.what());
    } catch (...) {
        bonsai::fuzz::fail(kTarget, "parseManifest threw a non-std exception");
    }
    BONSAI_FUZZ_CHECK(kTarget, r.manifest.has_value() != !r.error.isEmpty(), "exactly one of manifest and error must be set");
    if (!r.manifest) return 0;
    const PluginManifest& m = *r.manifest;
    BONSAI_FUZZ_CHECK(kTarget, bytes.size() <= kMaxManifestBytes, "accepted a manifest over the size limit");
    BONSAI_FUZZ_CHECK(kTarget, valid_id(m.id), "accepted an invalid id: " + m.id.toStdString());
    BONSAI_FUZZ_CHECK(kTarget, m.apiVersion >= 1 && m.apiVersion <= kApiVersion, "accepted apiVersion " + std::to_string(m.apiVersion));
    BONSAI_FUZZ_CHECK(kTarget, !m.name.trimmed().isEmpty(), "accepted an empty name");
    BONSAI_FUZZ_CHECK(kTarget, !m.main.isEmpty() && !m.main.contains(QStringLiteral("..")) && !m.main.startsWith(QLatin1Char('/')),
                      "accepted a 'main' outside the plugin folder: " + m.main.toStdString());
    for (const CommandContribution& c : m.commands)
        BONSAI_FUZZ_CHECK(kTarget, valid_command(c.name), "accepted an invalid command name: " + c.name.toStdString());
    for (const QString& p : m.permissions)
        BONSAI_FUZZ_CHECK(kTarget, PluginManifest::knownPermissions().contains(p), "accepted unknown permission " + p.toStdString());
    return 0;
}

BONSAI_FUZZ_ENTRY(bonsai_fuzz_manifest)
