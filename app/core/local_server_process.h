#pragma once
// The desktop app's "local server" switch: runs `bonsai-cli serve` (the OpenAI-compatible server) as a
// child process on the active model, so other tools on this machine can use it. A separate process
// keeps its own KV caches and cannot disturb the app's conversation; it ends with the app.
#include <QObject>
#include <QProcess>
#include <QString>

namespace bonsai::core {

class LocalServerProcess : public QObject {
    Q_OBJECT
public:
    // `cliPath`: the bonsai-cli executable (see cliExecutable()).
    explicit LocalServerProcess(QString cliPath, QObject* parent = nullptr);
    ~LocalServerProcess() override;

    // Starts (or restarts) serving `modelPath` on 127.0.0.1:`port` (0 = any free port).
    void start(const QString& modelPath, int port = 8080);
    void stop();
    bool running() const { return port_ > 0; }
    int port() const { return port_; }
    // One line for the Settings page: "Serving http://127.0.0.1:8080/v1", "Stopped", or the error.
    QString status() const { return status_; }

signals:
    void statusChanged();

private:
    void setStatus(const QString& s);
    QString cli_;
    QProcess process_;
    QByteArray stdout_, stderr_;
    int port_ = 0;
    bool stopping_ = false;
    QString status_;
};

// bonsai-cli next to the running executable (installed layout), or in the build tree's app/cli.
QString cliExecutable(const QString& applicationDir);

}  // namespace bonsai::core
