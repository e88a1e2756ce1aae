#pragma once
// JsBridge: the QObject behind the `bonsai` object of a JavaScript plugin. Its methods are only reachable
// through the prelude's closures (see js_runtime.cpp), which give them every argument explicitly.
// Each method checks its argument types, forwards to PluginContext, and turns a PluginError into a
// JavaScript exception (so a plugin may catch it; uncaught, it disables the plugin).
#include <QJSValue>
#include <QObject>

namespace bonsai::plugins {

class JsRuntime;

class JsBridge : public QObject {
    Q_OBJECT
public:
    explicit JsBridge(JsRuntime* runtime) : runtime_(runtime) {}

    Q_INVOKABLE void registerCommand(const QJSValue& name, const QJSValue& fn);
    Q_INVOKABLE void registerMessageAction(const QJSValue& id, const QJSValue& fn);
    Q_INVOKABLE QJSValue conversation();
    Q_INVOKABLE QJSValue selectedMessage();
    Q_INVOKABLE QJSValue complete(const QJSValue& prompt, const QJSValue& options);
    Q_INVOKABLE void cancel(const QJSValue& id);
    Q_INVOKABLE void insertMessage(const QJSValue& text, const QJSValue& role);
    Q_INVOKABLE void fillComposer(const QJSValue& text);
    Q_INVOKABLE void notify(const QJSValue& text);
    Q_INVOKABLE void log(const QJSValue& text);
    Q_INVOKABLE QJSValue settingsGet(const QJSValue& key, const QJSValue& fallback);
    Q_INVOKABLE void settingsSet(const QJSValue& key, const QJSValue& value);
    Q_INVOKABLE QJSValue settingsKeys();
    Q_INVOKABLE QJSValue clipboardRead();
    Q_INVOKABLE void clipboardWrite(const QJSValue& text);
    Q_INVOKABLE QJSValue contextSearch(const QJSValue& query, const QJSValue& limit);
    Q_INVOKABLE QJSValue permissions();
    Q_INVOKABLE QJSValue pluginId();

private:
    QJSValue guard(const std::function<QJSValue()>& fn);
    JsRuntime* runtime_;
};

}  // namespace bonsai::plugins
