#include "main_window_loader.h"

#include <QUrl>
#include <QVariantMap>

#include "chat_controller.h"
#include "context_controller.h"
#include "models_controller.h"
#include "plugins_controller.h"
#include "settings_controller.h"
#include "sidebar_controller.h"

namespace bonsai::ui {

QObject* loadMainWindow(QQmlApplicationEngine& engine, const MainWindowModels& m) {
    engine.setInitialProperties(QVariantMap{
        {QStringLiteral("chat"), QVariant::fromValue<QObject*>(m.chat)},
        {QStringLiteral("sidebar"), QVariant::fromValue<QObject*>(m.sidebar)},
        {QStringLiteral("models"), QVariant::fromValue<QObject*>(m.models)},
        {QStringLiteral("contextStore"), QVariant::fromValue<QObject*>(m.context)},
        {QStringLiteral("plugins"), QVariant::fromValue<QObject*>(m.plugins)},
        {QStringLiteral("settings"), QVariant::fromValue<QObject*>(m.settings)},
    });
    engine.load(QUrl(QStringLiteral("qrc:/bonsai/qml/Main.qml")));
    const auto roots = engine.rootObjects();
    return roots.isEmpty() ? nullptr : roots.first();
}

}  // namespace bonsai::ui
