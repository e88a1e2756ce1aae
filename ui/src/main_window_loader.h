#pragma once
// Loads the main window QML into an engine with its view models as initial properties
// (no context properties, no singletons), so the desktop app and the GUI tests load it the same way.
#include <QObject>
#include <QQmlApplicationEngine>
#include <QString>

namespace bonsai::ui {

class ChatController;
class SidebarController;
class ModelsController;
class ContextController;
class PluginsController;
class SettingsController;

// The view models of every page. None is owned; all must outlive the window.
struct MainWindowModels {
    ChatController* chat = nullptr;
    SidebarController* sidebar = nullptr;
    ModelsController* models = nullptr;
    ContextController* context = nullptr;
    PluginsController* plugins = nullptr;
    SettingsController* settings = nullptr;
};

// Returns the root ApplicationWindow, or nullptr after printing QML errors to stderr.
QObject* loadMainWindow(QQmlApplicationEngine& engine, const MainWindowModels& models);

}  // namespace bonsai::ui
