#include "host/js_bridge.h"

#include <QJsonArray>
#include <QJsonDocument>

#include "host/js_runtime.h"

namespace bonsai::plugins {

namespace {

QString requireString(const QJSValue& v, const QString& what) {
    if (!v.isString()) throw PluginError(QStringLiteral("%1 must be a string").arg(what));
    return v.toString();
}

QString optionalString(const QJSValue& v, const QString& what, const QString& fallback) {
    if (v.isUndefined() || v.isNull()) return fallback;
    return requireString(v, what);
}

QJSValue messageToJs(QJSEngine* engine, const ChatMessage& m) {
    QJSValue o = engine->newObject();
    o.setProperty(QStringLiteral("id"), m.id);
    o.setProperty(QStringLiteral("role"), m.role);
    o.setProperty(QStringLiteral("content"), m.content);
    return o;
}

// A prompt is a string (one user message) or an array of {role, content}.
QList<ChatMessage> promptFromJs(const QJSValue& prompt) {
    QList<ChatMessage> out;
    if (prompt.isString()) {
        out << ChatMessage{QString(), QStringLiteral("user"), prompt.toString()};
        return out;
    }
    if (!prompt.isArray()) throw PluginError(QStringLiteral("complete(): the prompt must be a string or an array of messages"));
    const int n = prompt.property(QStringLiteral("length")).toInt();
    if (n > 256) throw PluginError(QStringLiteral("complete(): more than 256 messages"));
    for (int i = 0; i < n; ++i) {
        const QJSValue m = prompt.property(static_cast<quint32>(i));
        if (!m.isObject()) throw PluginError(QStringLiteral("complete(): message %1 must be an object").arg(i));
        out << ChatMessage{QString(), requireString(m.property(QStringLiteral("role")), QStringLiteral("complete(): messages[%1].role").arg(i)),
                           requireString(m.property(QStringLiteral("content")), QStringLiteral("complete(): messages[%1].content").arg(i))};
    }
    return out;
}

}  // namespace

QJSValue JsBridge::guard(const std::function<QJSValue()>& fn) {
    try {
        return fn();
    } catch (const PluginError& e) {
        // Becomes a JavaScript Error thrown at the plugin's call site.
        runtime_->engine()->throwError(e.message());
    } catch (const std::exception& e) {
        runtime_->engine()->throwError(QString::fromUtf8(e.what()));
    }
    return QJSValue(QJSValue::UndefinedValue);
}

void JsBridge::registerCommand(const QJSValue& name, const QJSValue& fn) {
    guard([&] {
        const QString n = requireString(name, QStringLiteral("registerCommand(): the name"));
        if (!fn.isCallable()) throw PluginError(QStringLiteral("registerCommand('%1'): the handler must be a function").arg(n));
        JsRuntime* rt = runtime_;
        rt->context().registerCommand(n, [rt, fn](const QString& args) { rt->callJs(fn, {QJSValue(args)}); });
        return QJSValue();
    });
}

void JsBridge::registerMessageAction(const QJSValue& id, const QJSValue& fn) {
    guard([&] {
        const QString n = requireString(id, QStringLiteral("registerMessageAction(): the id"));
        if (!fn.isCallable()) throw PluginError(QStringLiteral("registerMessageAction('%1'): the handler must be a function").arg(n));
        JsRuntime* rt = runtime_;
        rt->context().registerMessageAction(n, [rt, fn](const ChatMessage& m, const QString& argument) {
            rt->callJs(fn, {messageToJs(rt->engine(), m), QJSValue(argument)});
        });
        return QJSValue();
    });
}

QJSValue JsBridge::conversation() {
    return guard([&] {
        const QList<ChatMessage> msgs = runtime_->context().conversation();
        QJSValue arr = runtime_->engine()->newArray(static_cast<uint>(msgs.size()));
        for (int i = 0; i < msgs.size(); ++i) arr.setProperty(static_cast<quint32>(i), messageToJs(runtime_->engine(), msgs[i]));
        return arr;
    });
}

QJSValue JsBridge::selectedMessage() {
    return guard([&] {
        const ChatMessage m = runtime_->context().selectedMessage();
        if (m.id.isEmpty()) return QJSValue(QJSValue::NullValue);
        return messageToJs(runtime_->engine(), m);
    });
}

QJSValue JsBridge::complete(const QJSValue& prompt, const QJSValue& options) {
    return guard([&] {
        // Check the permission first, so a plugin without it learns that rather than a type error.
        runtime_->context().require(QStringLiteral("model"), QStringLiteral("complete()"));
        QList<ChatMessage> messages = promptFromJs(prompt);
        QVariantMap opts;
        QJSValue onToken, onDone;
        if (!options.isUndefined() && !options.isNull()) {
            if (!options.isObject()) throw PluginError(QStringLiteral("complete(): options must be an object"));
            onToken = options.property(QStringLiteral("onToken"));
            onDone = options.property(QStringLiteral("onDone"));
            if (!onToken.isUndefined() && !onToken.isCallable()) throw PluginError(QStringLiteral("complete(): onToken must be a function"));
            if (!onDone.isUndefined() && !onDone.isCallable()) throw PluginError(QStringLiteral("complete(): onDone must be a function"));
            const QJSValue system = options.property(QStringLiteral("system"));
            if (!system.isUndefined())
                messages.prepend(ChatMessage{QString(), QStringLiteral("system"), requireString(system, QStringLiteral("complete(): options.system"))});
            for (const char* key : {"temperature", "maxTokens"}) {
                const QJSValue v = options.property(QString::fromLatin1(key));
                if (v.isUndefined()) continue;
                if (!v.isNumber()) throw PluginError(QStringLiteral("complete(): options.%1 must be a number").arg(QString::fromLatin1(key)));
                opts.insert(QString::fromLatin1(key), v.toNumber());
            }
        }
        JsRuntime* rt = runtime_;
        std::function<void(const QString&)> tokenFn;
        if (onToken.isCallable()) tokenFn = [rt, onToken](const QString& t) { rt->callJs(onToken, {QJSValue(t)}); };
        std::function<void(const QString&, const QString&)> doneFn;
        if (onDone.isCallable())
            doneFn = [rt, onDone](const QString& text, const QString& error) {
                rt->callJs(onDone, {QJSValue(text), error.isEmpty() ? QJSValue(QJSValue::NullValue) : QJSValue(error)});
            };
        const quint64 id = rt->context().complete(messages, opts, std::move(tokenFn), std::move(doneFn));
        return QJSValue(static_cast<double>(id));
    });
}

void JsBridge::cancel(const QJSValue& id) {
    guard([&] {
        if (!id.isNumber()) throw PluginError(QStringLiteral("cancel(): the id must be a number"));
        runtime_->context().cancel(static_cast<quint64>(id.toNumber()));
        return QJSValue();
    });
}

void JsBridge::insertMessage(const QJSValue& text, const QJSValue& role) {
    guard([&] {
        runtime_->context().insertMessage(optionalString(role, QStringLiteral("insertMessage(): the role"), QStringLiteral("assistant")),
                                          requireString(text, QStringLiteral("insertMessage(): the text")));
        return QJSValue();
    });
}

void JsBridge::fillComposer(const QJSValue& text) {
    guard([&] {
        runtime_->context().fillComposer(requireString(text, QStringLiteral("fillComposer(): the text")));
        return QJSValue();
    });
}

void JsBridge::notify(const QJSValue& text) {
    guard([&] {
        runtime_->context().notify(text.toString());
        return QJSValue();
    });
}

void JsBridge::log(const QJSValue& text) {
    guard([&] {
        runtime_->context().log(text.toString());
        return QJSValue();
    });
}

QJSValue JsBridge::settingsGet(const QJSValue& key, const QJSValue& fallback) {
    return guard([&] {
        const QJsonValue v = runtime_->context().setting(requireString(key, QStringLiteral("settings.get(): the key")));
        if (v.isUndefined()) return fallback;
        return runtime_->engine()->toScriptValue(v.toVariant());
    });
}

void JsBridge::settingsSet(const QJSValue& key, const QJSValue& value) {
    guard([&] {
        const QString k = requireString(key, QStringLiteral("settings.set(): the key"));
        if (value.isCallable()) throw PluginError(QStringLiteral("settings.set('%1'): functions cannot be stored").arg(k));
        const QJsonValue v = value.isUndefined() ? QJsonValue(QJsonValue::Undefined) : QJsonValue::fromVariant(value.toVariant());
        runtime_->context().setSetting(k, v);
        return QJSValue();
    });
}

QJSValue JsBridge::settingsKeys() {
    return guard([&] {
        return runtime_->engine()->toScriptValue(runtime_->context().settingKeys());
    });
}

QJSValue JsBridge::clipboardRead() {
    return guard([&] { return QJSValue(runtime_->context().clipboardText()); });
}

void JsBridge::clipboardWrite(const QJSValue& text) {
    guard([&] {
        runtime_->context().setClipboardText(requireString(text, QStringLiteral("clipboard.write(): the text")));
        return QJSValue();
    });
}

QJSValue JsBridge::contextSearch(const QJSValue& query, const QJSValue& limit) {
    return guard([&] {
        runtime_->context().require(QStringLiteral("context.read"), QStringLiteral("context.search()"));
        const QString q = requireString(query, QStringLiteral("context.search(): the query"));
        const int n = limit.isNumber() ? limit.toInt() : 5;
        const QList<ContextHit> hits = runtime_->context().contextSearch(q, n);
        QJSValue arr = runtime_->engine()->newArray(static_cast<uint>(hits.size()));
        for (int i = 0; i < hits.size(); ++i) {
            QJSValue o = runtime_->engine()->newObject();
            o.setProperty(QStringLiteral("title"), hits[i].title);
            o.setProperty(QStringLiteral("text"), hits[i].text);
            o.setProperty(QStringLiteral("score"), hits[i].score);
            arr.setProperty(static_cast<quint32>(i), o);
        }
        return arr;
    });
}

QJSValue JsBridge::permissions() {
    return guard([&] { return runtime_->engine()->toScriptValue(runtime_->context().permissions()); });
}

QJSValue JsBridge::pluginId() {
    return guard([&] { return QJSValue(runtime_->context().pluginId()); });
}

}  // namespace bonsai::plugins
