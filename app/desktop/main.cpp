// bonsai: the desktop app. Wires app/core and the Qt Quick UI; holds no logic of its own.
#include <unistd.h>

#include <QCoreApplication>
#include <QFileInfo>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "conversation_list_model.h"
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
    if (!displayAvailable()) return runTerminalChat(argv[0]);

    QGuiApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("Bonsai"));
    QCoreApplication::setOrganizationName(QStringLiteral("Bonsai"));
    QCoreApplication::setApplicationVersion(QStringLiteral(BONSAI_VERSION));

    bonsai::ui::ConversationListModel conversations;
    const QString model = bonsai::core::bundledDefaultModel(QCoreApplication::applicationDirPath());

    QQmlApplicationEngine engine;
    bonsai::ui::MainWindowModels models;
    models.conversations = &conversations;
    models.modelName = model.isEmpty() ? QString() : QFileInfo(model).completeBaseName();
    if (!bonsai::ui::loadMainWindow(engine, models)) {
        std::fprintf(stderr, "bonsai: the main window failed to load\n");
        return 1;
    }
    return app.exec();
}
