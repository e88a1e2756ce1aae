#include "main_window_loader.h"

#include <QUrl>
#include <QVariantMap>

#include "conversation_list_model.h"

namespace bonsai::ui {

QObject* loadMainWindow(QQmlApplicationEngine& engine, const MainWindowModels& models) {
    engine.setInitialProperties(QVariantMap{
        {QStringLiteral("conversations"), QVariant::fromValue<QObject*>(models.conversations)},
        {QStringLiteral("modelName"), models.modelName},
    });
    engine.load(QUrl(QStringLiteral("qrc:/bonsai/qml/Main.qml")));
    const auto roots = engine.rootObjects();
    return roots.isEmpty() ? nullptr : roots.first();
}

}  // namespace bonsai::ui
