#pragma once
// The Plugins page's view model: every loaded plugin with its permissions and commands, and the user's
// enable/disable choice. PluginHost has no switch of its own, so the choice is kept in QSettings
// ("plugins/disabled") and honoured by isUserEnabled(): the composer offers and runs only commands of
// plugins that are enabled both by the host (not failed) and by the user.
#include <QObject>
#include <QPointer>
#include <QVariantList>

namespace bonsai::plugins {
class PluginHost;
}

namespace bonsai::ui {

class PluginsController : public QObject {
    Q_OBJECT
    Q_PROPERTY(QVariantList plugins READ plugins NOTIFY pluginsChanged)
public:
    explicit PluginsController(plugins::PluginHost* host, QObject* parent = nullptr);

    QVariantList plugins() const { return rows_; }
    bool isUserEnabled(const QString& id) const;

    Q_INVOKABLE void refresh();
    Q_INVOKABLE void setEnabled(const QString& id, bool enabled);

signals:
    void pluginsChanged();

private:
    QPointer<plugins::PluginHost> host_;
    QVariantList rows_;
};

}  // namespace bonsai::ui
