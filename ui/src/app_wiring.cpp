#include "app_wiring.h"

#include <QFileInfo>
#include <QGuiApplication>
#include <QClipboard>
#include <QTimer>

#include "bonsai/storage/database.h"
#include "chat_controller.h"
#include "context_controller.h"
#include "core/conversation_service.h"
#include "core/host_services_impl.h"
#include "core/local_provider.h"
#include "core/local_server_process.h"
#include "core/openai_provider.h"
#include "core/secret_store.h"
#include "host/plugin_host.h"
#include "main_window_loader.h"
#include "models_controller.h"
#include "plugins_controller.h"
#include "settings_controller.h"
#include "sidebar_controller.h"

namespace bonsai::ui {

namespace {

Backend backendOf(const QString& s) {
    if (s == QStringLiteral("cpu")) return Backend::Cpu;
    if (s == QStringLiteral("vulkan")) return Backend::Vulkan;
    return Backend::Auto;
}

}  // namespace

App::App(const AppOptions& options) : options_(options) {
    db_ = std::make_unique<storage::Database>(options.databasePath.toStdString());
    service_ = std::make_unique<core::ConversationService>(*db_);
    secrets_ = std::make_unique<core::SecretStore>();
    settings_ = std::make_unique<SettingsController>(secrets_.get());
    QStringList extra;
    if (!options.defaultModel.isEmpty()) extra << options.defaultModel;
    models_ = std::make_unique<ModelsController>(options.modelsDir, extra);

    core::LocalProviderConfig config;
    config.nCtx = models_->contextLength();
    config.nThreads = models_->threads();
    config.backend = backendOf(models_->backend());
    SettingsController* settings = settings_.get();
    config.sampling = [settings](const SamplingParams& defaults) {
        SamplingParams p = defaults;
        p.temperature = float(settings->temperature());
        p.top_p = float(settings->topP());
        return p;
    };
    local_ = std::make_unique<core::LocalProvider>(config);
    service_->setLocalProvider(local_.get());
    service_->setMaxReplyTokens(settings_->maxTokens());

    chat_ = std::make_unique<ChatController>(service_.get());
    chat_->setContextSize(models_->contextLength());
    chat_->setCloudModel(settings_->cloudModel());
    sidebar_ = std::make_unique<SidebarController>(service_.get(), *db_);
    context_ = std::make_unique<ContextController>(*db_);

    if (options.loadPlugins) {
        hostServices_ = std::make_unique<core::AppHostServices>(service_.get());
        hostServices_->setClipboardAccess(
            [] { return QGuiApplication::clipboard() ? QGuiApplication::clipboard()->text() : QString(); },
            [](const QString& t) {
                if (QGuiApplication::clipboard()) QGuiApplication::clipboard()->setText(t);
            });
        plugins_ = std::make_unique<plugins::PluginHost>(hostServices_.get(),
                                                         plugins::HostOptions::defaults(options.applicationDir));
        chat_->setPluginHost(plugins_.get());
    }
    pluginsView_ = std::make_unique<PluginsController>(plugins_.get());
    PluginsController* pv = pluginsView_.get();
    chat_->setPluginFilter([pv](const QString& id) { return pv->isUserEnabled(id); });
    QObject::connect(pv, &PluginsController::pluginsChanged, chat_.get(), &ChatController::slashCommandsChanged);

    // Model loading: progress to the Models page, the name to the chat header.
    ModelsController* models = models_.get();
    ChatController* chat = chat_.get();
    core::LocalProvider* local = local_.get();
    QObject::connect(local, &core::LocalProvider::loadStarted, models,
                     [models](const QString&) { models->setLoadState(true, 0, QObject::tr("Loading the model")); });
    QObject::connect(local, &core::LocalProvider::loadProgress, models,
                     [models](double f, const QString& stage) { models->setLoadState(true, f, stage); });
    QObject::connect(local, &core::LocalProvider::modelLoaded, models, [models, chat, local](const QString& name) {
        models->setLoadState(false, 1, QString());
        models->setActiveModel(local->modelPath());
        chat->setLocalModel(name);
    });
    QObject::connect(local, &core::LocalProvider::loadFailed, models, [models, chat](const QString& message) {
        models->setLoadState(false, 0, message);
        chat->setLocalModel(QString());
    });
    QObject::connect(models, &ModelsController::activateRequested, local,
                     [local](const QString& path) { local->loadModel(path); });
    QObject::connect(models, &ModelsController::settingsChanged, chat,
                     [chat, models] { chat->setContextSize(models->contextLength()); });
    QObject::connect(settings, &SettingsController::changed, chat, [this] {
        service_->setMaxReplyTokens(settings_->maxTokens());
        chat_->setCloudModel(settings_->cloudModel());
        rebuildCloudProvider();
    });
    server_ = std::make_unique<core::LocalServerProcess>(options_.cliPath.isEmpty() ? core::cliExecutable(options_.applicationDir)
                                                                                     : options_.cliPath);
    QObject::connect(server_.get(), &core::LocalServerProcess::statusChanged, settings,
                     [this] { settings_->setServerStatus(server_->status()); });
    QObject::connect(settings, &SettingsController::changed, server_.get(), [this] { syncLocalServer(); });
    QObject::connect(models, &ModelsController::activeModelChanged, server_.get(), [this] { syncLocalServer(); });
    // The cloud provider needs the API key from the keyring, which can be slow: after the first frame.
    QTimer::singleShot(0, chat, [this] { rebuildCloudProvider(); });
}

App::~App() {
    server_.reset();  // stops the child server process
    if (hostServices_) hostServices_->shutdown();
    plugins_.reset();
    chat_.reset();
    service_.reset();
}

void App::rebuildCloudProvider() {
    core::OpenAIConfig config;
    config.baseUrl = QUrl(settings_->cloudBaseUrl());
    config.apiKey = settings_->apiKey();
    auto fresh = std::make_unique<core::OpenAIProvider>(config);
    service_->setCloudProvider(fresh.get());
    service_->setCloudModel(settings_->cloudModel());
    cloud_ = std::move(fresh);
}

void App::syncLocalServer() {
    const QString model = models_->activeModel();
    if (!settings_->localServer()) {
        if (server_->running() || !servedModel_.isEmpty()) server_->stop();
        servedModel_.clear();
        return;
    }
    if (model.isEmpty() || model == servedModel_) return;
    servedModel_ = model;
    server_->start(model, 8080);
}

void App::loadPlugins() {
    if (plugins_ && !pluginsLoaded_) {
        pluginsLoaded_ = true;
        plugins_->loadAll();
    }
}

void App::loadInitialModel() {
    QString path = models_->activeModel();
    if (path.isEmpty()) path = options_.defaultModel;
    if (!path.isEmpty()) local_->loadModel(path);
}

MainWindowModels App::windowModels() const {
    MainWindowModels m;
    m.chat = chat_.get();
    m.sidebar = sidebar_.get();
    m.models = models_.get();
    m.context = context_.get();
    m.plugins = pluginsView_.get();
    m.settings = settings_.get();
    return m;
}

}  // namespace bonsai::ui
