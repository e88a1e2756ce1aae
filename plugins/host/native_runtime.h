#pragma once
// NativeRuntime: a native plugin (a Qt plugin library implementing BonsaiPluginInterface) on the runtime's
// worker thread. It is loaded with QPluginLoader from the plugin folder's `main`; the loader's IID must be
// BonsaiPluginInterface_iid. Native code cannot be interrupted: its exceptions still disable it.
#include <QPluginLoader>

#include "host/plugin_runtime.h"

namespace bonsai::plugins {

class NativeRuntime : public PluginRuntime {
    Q_OBJECT
public:
    using PluginRuntime::PluginRuntime;

protected:
    void load() override;

private:
    // Never unloaded: handlers registered by the library point into its code until the process ends.
    QPluginLoader* loader_ = nullptr;
};

}  // namespace bonsai::plugins
