#pragma once
// The Settings page's view model: cloud endpoint, model and API key (the key goes to the SecretStore,
// never to the settings file), sampling defaults, theme and the local server switch. Values persist
// in QSettings; changed() tells the app to rebuild the cloud provider.
#include <QObject>
#include <QVariant>

namespace bonsai::core {
class SecretStore;
}

namespace bonsai::ui {

class SettingsController : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString cloudBaseUrl READ cloudBaseUrl WRITE setCloudBaseUrl NOTIFY changed)
    Q_PROPERTY(QString cloudModel READ cloudModel WRITE setCloudModel NOTIFY changed)
    Q_PROPERTY(bool hasApiKey READ hasApiKey NOTIFY changed)
    Q_PROPERTY(double temperature READ temperature WRITE setTemperature NOTIFY changed)
    Q_PROPERTY(double topP READ topP WRITE setTopP NOTIFY changed)
    Q_PROPERTY(int maxTokens READ maxTokens WRITE setMaxTokens NOTIFY changed)
    Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY changed)
    Q_PROPERTY(bool localServer READ localServer WRITE setLocalServer NOTIFY changed)
    Q_PROPERTY(QString status READ status NOTIFY statusChanged)
    Q_PROPERTY(QString serverStatus READ serverStatus NOTIFY serverStatusChanged)
public:
    explicit SettingsController(core::SecretStore* secrets, QObject* parent = nullptr);

    QString cloudBaseUrl() const { return get(QStringLiteral("cloud/baseUrl"), QStringLiteral("https://api.openai.com/v1")).toString(); }
    void setCloudBaseUrl(const QString& v);
    QString cloudModel() const { return get(QStringLiteral("cloud/model"), QStringLiteral("gpt-4o-mini")).toString(); }
    void setCloudModel(const QString& v) { set(QStringLiteral("cloud/model"), v.trimmed()); }
    bool hasApiKey() const { return hasKey_; }
    double temperature() const { return get(QStringLiteral("sampling/temperature"), 0.5).toDouble(); }
    void setTemperature(double v) { set(QStringLiteral("sampling/temperature"), qBound(0.0, v, 2.0)); }
    double topP() const { return get(QStringLiteral("sampling/topP"), 0.85).toDouble(); }
    void setTopP(double v) { set(QStringLiteral("sampling/topP"), qBound(0.0, v, 1.0)); }
    int maxTokens() const { return get(QStringLiteral("sampling/maxTokens"), 1024).toInt(); }
    void setMaxTokens(int v) { set(QStringLiteral("sampling/maxTokens"), qBound(16, v, 32768)); }
    QString theme() const { return get(QStringLiteral("ui/theme"), QStringLiteral("system")).toString(); }
    void setTheme(const QString& v);  // "light", "dark" or "system"
    bool localServer() const { return get(QStringLiteral("server/enabled"), false).toBool(); }
    void setLocalServer(bool on) { set(QStringLiteral("server/enabled"), on); }
    QString status() const { return status_; }
    // What the local server is doing ("Serving http://127.0.0.1:8080/v1", "Stopped", an error); set by the app.
    QString serverStatus() const { return serverStatus_; }
    void setServerStatus(const QString& s) {
        if (s == serverStatus_) return;
        serverStatus_ = s;
        emit serverStatusChanged();
    }

    // Stores the key in the SecretStore (empty: removes it). The key itself is never readable from QML.
    Q_INVOKABLE void setApiKey(const QString& key);
    // For the app when building the cloud provider.
    QString apiKey() const;

signals:
    void changed();
    void statusChanged();
    void serverStatusChanged();

private:
    QVariant get(const QString& key, const QVariant& fallback) const;
    void set(const QString& key, const QVariant& value);

    core::SecretStore* secrets_;
    bool hasKey_ = false;
    QString status_;
    QString serverStatus_;
};

}  // namespace bonsai::ui
