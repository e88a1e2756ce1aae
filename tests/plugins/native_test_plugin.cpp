// A tiny native plugin for test_native_plugin: /hello notifies, /echo-model completes through the host,
// /throw throws a C++ exception.
#include <QObject>
#include <stdexcept>

#include "api/plugin_interface.h"

class NativeTestPlugin : public QObject, public bonsai::plugins::BonsaiPluginInterface {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID BonsaiPluginInterface_iid)
    Q_INTERFACES(bonsai::plugins::BonsaiPluginInterface)
public:
    void initialize(bonsai::plugins::PluginApi* api) override {
        api->registerCommand("hello", [api](const QString& args) { api->notify("native hello " + args); });
        api->registerCommand("ask", [api](const QString& args) {
            api->complete({{QString(), "user", args}}, {}, nullptr,
                          [api](const QString& text, const QString& error) { api->insertMessage("assistant", text + error); });
        });
        api->registerCommand("throw", [](const QString&) { throw std::runtime_error("native failure"); });
        api->registerMessageAction("count", [api](const bonsai::plugins::ChatMessage& m, const QString&) {
            api->fillComposer(QString::number(m.content.size()));
        });
    }
};

#include "native_test_plugin.moc"
