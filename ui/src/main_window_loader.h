#pragma once
// Loads the main window QML into an engine with its view models as initial properties
// (no context properties, no singletons), so the desktop app and the GUI tests load it the same way.
#include <QObject>
#include <QQmlApplicationEngine>
#include <QString>

namespace bonsai::ui {

class ConversationListModel;

struct MainWindowModels {
    ConversationListModel* conversations = nullptr;
    QString modelName;  // shown in the header; empty when no model is loaded
};

// Returns the root ApplicationWindow, or nullptr after printing QML errors to stderr.
QObject* loadMainWindow(QQmlApplicationEngine& engine, const MainWindowModels& models);

}  // namespace bonsai::ui
