#pragma once
// JsRuntime: a JavaScript plugin in its own QJSEngine on the runtime's worker thread.
//
// The sandbox: the engine is a bare QJSEngine with no extensions installed (no Qt object, no print/gc,
// no XMLHttpRequest, no Qt.include, no translation functions); scripts are evaluated as classic scripts,
// where `import` is a syntax error, so nothing can load a file. The only ways out are the frozen `bonsai`
// object and `console.log`, built by a strict-mode prelude around a hidden bridge object that plugin code
// can never reach. Synchronous code past the time limit is stopped with QJSEngine::setInterrupted.
#include <QJSEngine>
#include <QJSValue>
#include <atomic>

#include "host/plugin_runtime.h"

namespace bonsai::plugins {

// Largest main.js accepted.
inline constexpr qint64 kMaxScriptBytes = 1024 * 1024;

class JsBridge;

class JsRuntime : public PluginRuntime {
    Q_OBJECT
public:
    using PluginRuntime::PluginRuntime;
    ~JsRuntime() override;

    void interrupt() override;

    // Calls a plugin function with `args` (worker thread). Throws PluginError with a readable message
    // (file:line: error) when it throws or is interrupted.
    void callJs(const QJSValue& fn, const QJSValueList& args);
    QJSEngine* engine() const { return engine_.load(); }
    PluginContext& context() { return context_; }

protected:
    void load() override;
    std::function<void()> expiryAction() override;

private:
    std::atomic<QJSEngine*> engine_{nullptr};
    std::atomic<bool> interrupted_{false};
    JsBridge* bridge_ = nullptr;
    QJSValue trampoline_;
};

}  // namespace bonsai::plugins
