// bonsai: the desktop app. Wires app/core and the Qt Quick UI (ui/src/app_wiring.h); holds no logic of its own.
//
// Options (for people and for scripts/screenshots.sh):
//   --measure-startup   print the time from main() to the window's first frame and to the model being
//                       loaded, then keep running
//                       (with --quit-after-startup: exit right after printing)
//   --page NAME         open on chat | models | context | plugins | settings
//   --send TEXT         send TEXT as the first message once the model is loaded (demo and screenshots)
//   --open ID           open conversation ID instead of a new chat
#include <unistd.h>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app_wiring.h"
#include "chat_controller.h"
#include "core/local_provider.h"
#include "core/paths.h"
#include "main_window_loader.h"

namespace {

bool displayAvailable() {
    const char* platform = std::getenv("QT_QPA_PLATFORM");
    if (platform && *platform) return true;  // offscreen, xcb, wayland ...: the user chose one
    const char* x = std::getenv("DISPLAY");
    const char* w = std::getenv("WAYLAND_DISPLAY");
    return (x && *x) || (w && *w);
}

// Without a display there is no window to show: say so and hand over to the terminal chat.
int runTerminalChat(const char* argv0) {
    std::fprintf(stderr, "bonsai: no display available (neither DISPLAY nor WAYLAND_DISPLAY is set); "
                         "starting 'bonsai-cli chat' in this terminal instead.\n");
    std::string exe = argv0;
    const auto slash = exe.rfind('/');
    const std::string dir = slash == std::string::npos ? std::string(".") : exe.substr(0, slash);
    std::string cli = dir + "/bonsai-cli";
    if (!QFileInfo::exists(QString::fromStdString(cli))) cli = dir + "/../cli/bonsai-cli";  // build tree layout
    const QString model = bonsai::core::bundledDefaultModel(QString::fromStdString(dir));
    if (model.isEmpty()) {
        std::fprintf(stderr, "bonsai: no bundled default model found; run 'bonsai-cli chat -m MODEL.gguf'.\n");
        execl(cli.c_str(), cli.c_str(), "chat", static_cast<char*>(nullptr));
    } else {
        const std::string m = model.toStdString();
        execl(cli.c_str(), cli.c_str(), "chat", "-m", m.c_str(), static_cast<char*>(nullptr));
    }
    std::perror(("bonsai: cannot start " + cli).c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    QElapsedTimer startup;
    startup.start();
    if (!displayAvailable()) return runTerminalChat(argv[0]);

    QGuiApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("Bonsai"));
    QCoreApplication::setOrganizationName(QStringLiteral("Bonsai"));
    QCoreApplication::setApplicationVersion(QStringLiteral(BONSAI_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Bonsai, a desktop AI assistant"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption measure(QStringLiteral("measure-startup"), QStringLiteral("Print the time to the first frame."));
    const QCommandLineOption quitAfter(QStringLiteral("quit-after-startup"), QStringLiteral("Exit after the first frame."));
    const QCommandLineOption page(QStringLiteral("page"), QStringLiteral("Open on a page: chat, models, context, plugins, settings."), QStringLiteral("name"));
    const QCommandLineOption send(QStringLiteral("send"), QStringLiteral("Send a first message once the model is loaded."), QStringLiteral("text"));
    const QCommandLineOption open(QStringLiteral("open"), QStringLiteral("Open a conversation by id."), QStringLiteral("id"));
    parser.addOptions({measure, quitAfter, page, send, open});
    parser.process(app);

    const bonsai::core::AppPaths paths = bonsai::core::AppPaths::fromEnvironment();
    bonsai::ui::AppOptions options;
    options.databasePath = paths.databasePath();
    options.modelsDir = paths.userModelDir();
    options.defaultModel = bonsai::core::bundledDefaultModel(QCoreApplication::applicationDirPath());
    options.applicationDir = QCoreApplication::applicationDirPath();
    std::unique_ptr<bonsai::ui::App> bonsaiApp;
    try {
        bonsaiApp = std::make_unique<bonsai::ui::App>(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bonsai: cannot start: %s\n", e.what());
        return 1;
    }

    QQmlApplicationEngine engine;
    QObject* root = bonsai::ui::loadMainWindow(engine, bonsaiApp->windowModels());
    auto* window = qobject_cast<QQuickWindow*>(root);
    if (!window) {
        std::fprintf(stderr, "bonsai: the main window failed to load\n");
        return 1;
    }
    const QStringList pages = {QStringLiteral("chat"), QStringLiteral("models"), QStringLiteral("context"),
                               QStringLiteral("plugins"), QStringLiteral("settings")};
    if (parser.isSet(page)) {
        const int index = pages.indexOf(parser.value(page));
        if (index < 0) {
            std::fprintf(stderr, "bonsai: unknown page '%s'\n", qPrintable(parser.value(page)));
            return 2;
        }
        root->setProperty("currentPage", index);
    }

    if (parser.isSet(open)) bonsaiApp->chat().openConversation(parser.value(open).toLongLong());

    // Cold start: from main() to the first frame on screen.
    const bool printStartup = parser.isSet(measure);
    const bool quit = parser.isSet(quitAfter);
    QObject::connect(window, &QQuickWindow::frameSwapped, window, [&startup, printStartup, quit, window] {
        static bool first = true;
        if (!first) return;
        first = false;
        if (printStartup) {
            std::printf("bonsai: startup to first frame: %lld ms\n", static_cast<long long>(startup.elapsed()));
            std::fflush(stdout);
        }
        if (quit) QTimer::singleShot(0, window, [] { QCoreApplication::quit(); });
    }, Qt::DirectConnection);

    if (printStartup)
        QObject::connect(&bonsaiApp->localProvider(), &bonsai::core::LocalProvider::modelLoaded, window,
                         [&startup](const QString& name) {
                             std::printf("bonsai: model %s ready to answer: %lld ms\n", qPrintable(name),
                                         static_cast<long long>(startup.elapsed()));
                             std::fflush(stdout);
                         });
    // The model loads after the window is up, so the window appears at once.
    QTimer::singleShot(0, window, [&bonsaiApp] { bonsaiApp->loadInitialModel(); });
    // Plugins start after the window is up: they are not needed for the first frame.
    QTimer::singleShot(0, window, [&bonsaiApp] { bonsaiApp->loadPlugins(); });
    if (parser.isSet(send)) {
        const QString text = parser.value(send);
        QObject::connect(&bonsaiApp->localProvider(), &bonsai::core::LocalProvider::modelLoaded, window,
                         [&bonsaiApp, text] { bonsaiApp->chat().send(text); }, Qt::SingleShotConnection);
    }
    const int rc = app.exec();
    engine.clearComponentCache();
    return rc;
}
