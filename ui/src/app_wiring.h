#pragma once
// Builds the desktop app's object graph: database, conversation service, local and cloud providers,
// plugins and every view model, wired together. app/desktop/main.cpp owns one; the GUI tests build the same graph
// against temporary folders, so what they drive is what users run.
#include <QString>
#include <memory>

namespace bonsai::storage {
class Database;
}
namespace bonsai::core {
class ConversationService;
class LocalProvider;
class OpenAIProvider;
class SecretStore;
class AppHostServices;
class LocalServerProcess;
}  // namespace bonsai::core
namespace bonsai::plugins {
class PluginHost;
}

namespace bonsai::ui {

class ChatController;
class SidebarController;
class ModelsController;
class ContextController;
class PluginsController;
class SettingsController;
struct MainWindowModels;

struct AppOptions {
    QString databasePath;   // the profile database
    QString modelsDir;      // the user's model folder
    QString defaultModel;   // bundled default model ("" = none)
    QString applicationDir; // for plugin discovery and finding bonsai-cli
    QString cliPath;        // bonsai-cli for the local server ("" = next to the app)
    bool loadPlugins = true;
};

class App {
public:
    explicit App(const AppOptions& options);
    ~App();

    // Starts loading the active (or default) model; the window shows the progress.
    void loadInitialModel();
    // Loads the plugins (each starts on its own thread); the app calls it after the first frame.
    void loadPlugins();
    MainWindowModels windowModels() const;

    core::ConversationService& service() { return *service_; }
    core::LocalProvider& localProvider() { return *local_; }
    ChatController& chat() { return *chat_; }
    SidebarController& sidebar() { return *sidebar_; }
    ModelsController& models() { return *models_; }

private:
    void rebuildCloudProvider();
    // Starts, restarts or stops the local OpenAI-compatible server to match the settings and active model.
    void syncLocalServer();

    AppOptions options_;
    std::unique_ptr<storage::Database> db_;
    std::unique_ptr<core::ConversationService> service_;
    std::unique_ptr<core::LocalProvider> local_;
    std::unique_ptr<core::OpenAIProvider> cloud_;
    std::unique_ptr<core::SecretStore> secrets_;
    std::unique_ptr<core::AppHostServices> hostServices_;
    std::unique_ptr<plugins::PluginHost> plugins_;
    std::unique_ptr<ChatController> chat_;
    std::unique_ptr<SidebarController> sidebar_;
    std::unique_ptr<ModelsController> models_;
    std::unique_ptr<ContextController> context_;
    std::unique_ptr<PluginsController> pluginsView_;
    std::unique_ptr<SettingsController> settings_;
    std::unique_ptr<core::LocalServerProcess> server_;
    QString servedModel_;
    bool pluginsLoaded_ = false;
};

}  // namespace bonsai::ui
