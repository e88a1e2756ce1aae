#include "host/js_runtime.h"

#include <QDir>
#include <QFile>

#include "host/js_bridge.h"

namespace bonsai::plugins {

namespace {

// Builds the plugin's globals from the hidden bridge `h`. Strict mode: plugin code cannot climb from these
// functions to `h` (no .caller/.arguments), and the objects are frozen.
const char* const kPrelude = R"JS(
(function (h) {
    'use strict';
    var settings = Object.freeze({
        get: function (key, fallback) { return h.settingsGet(key, fallback); },
        set: function (key, value) { h.settingsSet(key, value); },
        remove: function (key) { h.settingsSet(key, undefined); },
        keys: function () { return h.settingsKeys(); }
    });
    var clipboard = Object.freeze({
        read: function () { return h.clipboardRead(); },
        write: function (text) { h.clipboardWrite(text); }
    });
    var context = Object.freeze({
        search: function (query, limit) { return h.contextSearch(query, limit); }
    });
    var bonsai = Object.freeze({
        apiVersion: 1,
        id: h.pluginId(),
        permissions: Object.freeze(Array.prototype.slice.call(h.permissions())),  // a real array: freezing a Qt sequence wrapper crashes Qt 6.4
        registerCommand: function (name, fn) { h.registerCommand(name, fn); },
        registerMessageAction: function (id, fn) { h.registerMessageAction(id, fn); },
        conversation: function () { return h.conversation(); },
        selectedMessage: function () { return h.selectedMessage(); },
        complete: function (prompt, options) { return h.complete(prompt, options); },
        cancel: function (id) { h.cancel(id); },
        insertMessage: function (text, role) { h.insertMessage(text, role); },
        fillComposer: function (text) { h.fillComposer(text); },
        notify: function (text) { h.notify(text); },
        settings: settings,
        clipboard: clipboard,
        context: context
    });
    function log() { h.log(Array.prototype.map.call(arguments, String).join(' ')); }
    var console = Object.freeze({ log: log, info: log, warn: log, error: log, debug: log });
    return { bonsai: bonsai, console: console };
})
)JS";

// Calls f with args; reports an exception as {ok:false, error:"main.js:12: TypeError: ..."}. An interrupt
// is not catchable, so it surfaces as an error result of the call itself.
const char* const kTrampoline = R"JS(
(function (f, args) {
    try {
        f.apply(undefined, args);
        return { ok: true };
    } catch (e) {
        var where = '';
        if (e && e.fileName) where = String(e.fileName).replace(/^.*[\/\\]/, '') + ':' + (e.lineNumber || '?') + ': ';
        return { ok: false, error: where + String(e) };
    }
})
)JS";

QString describe(const QJSValue& error) {
    QString where;
    const QJSValue file = error.property(QStringLiteral("fileName"));
    const QJSValue line = error.property(QStringLiteral("lineNumber"));
    if (file.isString() && !file.toString().isEmpty())
        where = QStringLiteral("%1:%2: ").arg(file.toString().section(QLatin1Char('/'), -1), line.toString());
    return where + error.toString();
}

}  // namespace

JsRuntime::~JsRuntime() {
    // The engine is a child of this object and dies with it, on the worker thread.
    engine_.store(nullptr);
}

void JsRuntime::interrupt() {
    // Sticky: an interrupt that comes while load() is still creating the engine applies to it there.
    interrupted_.store(true);
    if (QJSEngine* e = engine_.load()) e->setInterrupted(true);
}

std::function<void()> JsRuntime::expiryAction() {
    // Safe to capture `this`: the watchdog is disarmed before guarded() returns (see watchdog.h).
    return [this] { interrupt(); };
}

void JsRuntime::callJs(const QJSValue& fn, const QJSValueList& args) {
    QJSEngine* e = engine_.load();
    if (!e) throw PluginError(QStringLiteral("the script engine is gone"));
    QJSValue list = e->newArray(static_cast<uint>(args.size()));
    for (int i = 0; i < args.size(); ++i) list.setProperty(static_cast<quint32>(i), args[i]);
    const QJSValue r = trampoline_.call({fn, list});
    if (r.isError()) throw PluginError(describe(r));
    if (!r.property(QStringLiteral("ok")).toBool()) throw PluginError(r.property(QStringLiteral("error")).toString());
}

void JsRuntime::load() {
    QFile file(QDir(folder_).filePath(manifest_.main));
    if (!file.open(QIODevice::ReadOnly)) throw PluginError(QStringLiteral("cannot read %1: %2").arg(manifest_.main, file.errorString()));
    if (file.size() > kMaxScriptBytes)
        throw PluginError(QStringLiteral("%1 is larger than %2 KiB").arg(manifest_.main).arg(kMaxScriptBytes / 1024));
    const QString source = QString::fromUtf8(file.read(kMaxScriptBytes + 1));

    // A bare engine: installExtensions() is deliberately never called (see the header).
    auto* engine = new QJSEngine(this);
    engine_.store(engine);
    if (interrupted_.load()) engine->setInterrupted(true);
    bridge_ = new JsBridge(this);
    bridge_->setParent(this);  // C++ ownership: the engine must never collect it

    const QJSValue prelude = engine->evaluate(QString::fromLatin1(kPrelude), QStringLiteral("<prelude>"));
    trampoline_ = engine->evaluate(QString::fromLatin1(kTrampoline), QStringLiteral("<trampoline>"));
    if (prelude.isError() || trampoline_.isError()) throw PluginError(QStringLiteral("internal: the plugin prelude failed"));
    const QJSValue globals = prelude.call({engine->newQObject(bridge_)});
    if (globals.isError()) throw PluginError(QStringLiteral("internal: %1").arg(globals.toString()));
    QJSValue global = engine->globalObject();
    // Belt and braces: none of these exist in a bare engine; make sure a future Qt does not add them here.
    for (const char* name : {"Qt", "XMLHttpRequest", "print", "gc", "include", "importScripts", "Worker"})
        global.deleteProperty(QString::fromLatin1(name));
    global.setProperty(QStringLiteral("bonsai"), globals.property(QStringLiteral("bonsai")));
    global.setProperty(QStringLiteral("console"), globals.property(QStringLiteral("console")));

    const QJSValue result = engine->evaluate(source, manifest_.main, 1);
    if (result.isError()) throw PluginError(describe(result));
}

}  // namespace bonsai::plugins
