#pragma once
// BonsaiPluginInterface: the C++ interface of a native plugin, a Qt plugin library loaded with QPluginLoader.
// A native plugin folder has plugin.json with "type": "native" and "main": "<library file name>"; the
// library's root object implements this interface:
//
//   class MyPlugin : public QObject, public bonsai::plugins::BonsaiPluginInterface {
//       Q_OBJECT
//       Q_PLUGIN_METADATA(IID BonsaiPluginInterface_iid)
//       Q_INTERFACES(bonsai::plugins::BonsaiPluginInterface)
//   public:
//       void initialize(bonsai::plugins::PluginApi* api) override { api->registerCommand(...); }
//   };
//
// Native plugins are not sandboxed (they run with the app's rights); the time limit cannot interrupt
// them, only report them. Only install native plugins you trust.
#include <QtPlugin>

#include "api/plugin_api.h"

namespace bonsai::plugins {

class BonsaiPluginInterface {
public:
    virtual ~BonsaiPluginInterface() = default;
    // Called once, on the plugin's worker thread, right after loading. `api` stays valid until the plugin
    // is unloaded. Register commands and message actions here. A thrown exception disables the plugin.
    virtual void initialize(PluginApi* api) = 0;
};

}  // namespace bonsai::plugins

#define BonsaiPluginInterface_iid "org.bonsai.BonsaiPluginInterface/1"
Q_DECLARE_INTERFACE(bonsai::plugins::BonsaiPluginInterface, BonsaiPluginInterface_iid)
