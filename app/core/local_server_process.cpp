#include "core/local_server_process.h"

#include <QFileInfo>

namespace bonsai::core {

QString cliExecutable(const QString& applicationDir) {
    for (const QString& c : {applicationDir + QStringLiteral("/bonsai-cli"), applicationDir + QStringLiteral("/../cli/bonsai-cli")})
        if (QFileInfo(c).isExecutable()) return QFileInfo(c).canonicalFilePath();
    return QString();
}

LocalServerProcess::LocalServerProcess(QString cliPath, QObject* parent)
    : QObject(parent), cli_(std::move(cliPath)), status_(tr("Stopped")) {
    connect(&process_, &QProcess::readyReadStandardOutput, this, [this] {
        stdout_ += process_.readAllStandardOutput();
        if (port_ == 0) {
            const qsizetype at = stdout_.indexOf("port ");
            const qsizetype nl = stdout_.indexOf('\n', at);
            if (at >= 0 && nl > at) {
                port_ = stdout_.mid(at + 5, nl - at - 5).trimmed().toInt();
                setStatus(tr("Serving http://127.0.0.1:%1/v1").arg(port_));
            }
        }
    });
    connect(&process_, &QProcess::readyReadStandardError, this, [this] {
        stderr_ += process_.readAllStandardError();
        if (stderr_.size() > 64 * 1024) stderr_ = stderr_.right(16 * 1024);
    });
    connect(&process_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus) {
        port_ = 0;
        if (stopping_) {
            setStatus(tr("Stopped"));
            return;
        }
        const QList<QByteArray> lines = stderr_.trimmed().split('\n');
        setStatus(tr("The local server stopped (exit %1): %2").arg(code).arg(QString::fromUtf8(lines.value(lines.size() - 1))));
    });
    connect(&process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) setStatus(tr("Cannot start %1").arg(cli_));
    });
}

LocalServerProcess::~LocalServerProcess() { stop(); }

void LocalServerProcess::start(const QString& modelPath, int port) {
    stop();
    if (cli_.isEmpty()) {
        setStatus(tr("bonsai-cli was not found next to the app"));
        return;
    }
    if (modelPath.isEmpty()) {
        setStatus(tr("Load a local model first"));
        return;
    }
    stopping_ = false;
    stdout_.clear();
    stderr_.clear();
    setStatus(tr("Starting…"));
    process_.start(cli_, {QStringLiteral("serve"), QStringLiteral("-m"), modelPath, QStringLiteral("--host"),
                          QStringLiteral("127.0.0.1"), QStringLiteral("--port"), QString::number(port)});
}

void LocalServerProcess::stop() {
    if (process_.state() == QProcess::NotRunning) return;
    stopping_ = true;
    process_.terminate();  // SIGTERM: the server shuts down cleanly
    if (!process_.waitForFinished(5000)) {
        process_.kill();
        process_.waitForFinished(2000);
    }
    port_ = 0;
    setStatus(tr("Stopped"));
}

void LocalServerProcess::setStatus(const QString& s) {
    if (s == status_) return;
    status_ = s;
    emit statusChanged();
}

}  // namespace bonsai::core
