#include "models_controller.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QUrl>

#include "model_info.h"

namespace bonsai::ui {

namespace {
const QString kExtraKey = QStringLiteral("models/extraFiles");
}

ModelsController::ModelsController(QString modelsDir, QStringList extraModels, QObject* parent)
    : QObject(parent), modelsDir_(std::move(modelsDir)), extraModels_(std::move(extraModels)) {
    QSettings s;
    contextLength_ = s.value(QStringLiteral("engine/context"), 4096).toInt();
    backend_ = s.value(QStringLiteral("engine/backend"), QStringLiteral("auto")).toString();
    threads_ = s.value(QStringLiteral("engine/threads"), 0).toInt();
    connect(&downloader_, &ModelDownloader::finished, this, [this](const QString& path) {
        setStatus(tr("Downloaded %1").arg(QFileInfo(path).fileName()));
        refresh();
    });
    connect(&downloader_, &ModelDownloader::failed, this, &ModelsController::setStatus);
    refresh();
}

void ModelsController::setContextLength(int n) {
    if (n < 256 || n == contextLength_) return;
    contextLength_ = n;
    QSettings().setValue(QStringLiteral("engine/context"), n);
    emit settingsChanged();
    refresh();  // the memory estimates depend on it
}

void ModelsController::setBackend(const QString& b) {
    if (b == backend_ || (b != QStringLiteral("auto") && b != QStringLiteral("cpu") && b != QStringLiteral("vulkan")))
        return;
    backend_ = b;
    QSettings().setValue(QStringLiteral("engine/backend"), b);
    emit settingsChanged();
}

void ModelsController::setThreads(int n) {
    if (n < 0 || n == threads_) return;
    threads_ = n;
    QSettings().setValue(QStringLiteral("engine/threads"), n);
    emit settingsChanged();
}

QString ModelsController::physicalMemoryText() const { return formatBytes(physicalMemoryBytes()); }

QVariantList ModelsController::parseCatalog(const QByteArray& json, qint64 physicalMemory, int context, QString* error) {
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (!doc.isObject() || doc.object().value(QStringLiteral("format")).toString() != QStringLiteral("bonsai-model-catalog")) {
        if (error) *error = tr("The model catalog is not a bonsai-model-catalog document (%1).").arg(pe.errorString());
        return {};
    }
    QVariantList out;
    for (const QJsonValue& v : doc.object().value(QStringLiteral("models")).toArray()) {
        const QJsonObject o = v.toObject();
        const QString repo = o.value(QStringLiteral("repo")).toString();
        const QString file = o.value(QStringLiteral("file")).toString();
        if (repo.isEmpty() || file.isEmpty()) continue;  // an entry nobody could download
        ModelShape shape;
        shape.layers = o.value(QStringLiteral("layers")).toInteger();
        shape.kvHeads = o.value(QStringLiteral("kvHeads")).toInteger();
        shape.headDim = o.value(QStringLiteral("headDim")).toInteger();
        shape.contextLength = o.value(QStringLiteral("contextLength")).toInteger();
        const qint64 size = o.value(QStringLiteral("sizeBytes")).toInteger();
        const qint64 ctx = shape.contextLength > 0 ? std::min<qint64>(context, shape.contextLength) : context;
        const qint64 mem = estimateMemoryBytes(size, shape, ctx);
        QVariantMap m = o.toVariantMap();
        m.insert(QStringLiteral("source"), repo + u'/' + file);
        m.insert(QStringLiteral("sizeText"), formatBytes(size));
        m.insert(QStringLiteral("memoryBytes"), mem);
        m.insert(QStringLiteral("memoryText"), formatBytes(mem));
        // Unknown sizes cannot be judged; otherwise leave a quarter of RAM to the system and other apps.
        const QString fit = mem <= 0 || physicalMemory <= 0 ? QStringLiteral("unknown")
                            : double(mem) <= double(physicalMemory) * 0.75 ? QStringLiteral("yes")
                                                                            : QStringLiteral("no");
        m.insert(QStringLiteral("canRun"), fit);
        out << m;
    }
    return out;
}

void ModelsController::refresh() {
    QStringList files = extraModels_;
    files += QSettings().value(kExtraKey).toStringList();
    const QDir dir(modelsDir_);
    for (const QString& f : dir.entryList({QStringLiteral("*.gguf")}, QDir::Files, QDir::Name))
        files << dir.absoluteFilePath(f);
    files.removeDuplicates();
    QVariantList rows;
    QStringList installedNames;
    for (const QString& path : files) {
        if (!QFileInfo::exists(path)) continue;
        const InstalledModel im = readInstalledModel(path);
        const qint64 ctx = im.shape.contextLength > 0 ? std::min<qint64>(contextLength_, im.shape.contextLength)
                                                      : contextLength_;
        const qint64 mem = estimateMemoryBytes(im.sizeBytes, im.shape, ctx);
        rows << QVariantMap{{QStringLiteral("path"), path},
                            {QStringLiteral("name"), im.name},
                            {QStringLiteral("architecture"), im.architecture},
                            {QStringLiteral("tensorType"), im.tensorType},
                            {QStringLiteral("sizeBytes"), im.sizeBytes},
                            {QStringLiteral("sizeText"), formatBytes(im.sizeBytes)},
                            {QStringLiteral("memoryBytes"), mem},
                            {QStringLiteral("memoryText"), formatBytes(mem)},
                            {QStringLiteral("contextLength"), im.shape.contextLength},
                            {QStringLiteral("error"), im.error},
                            {QStringLiteral("active"), path == activeModel_}};
        installedNames << QFileInfo(path).fileName();
    }
    installed_ = rows;
    QFile f(QStringLiteral(":/bonsai/catalog/models.json"));
    QString err;
    catalog_ = f.open(QIODevice::ReadOnly) ? parseCatalog(f.readAll(), physicalMemoryBytes(), contextLength_, &err)
                                           : QVariantList{};
    for (QVariant& v : catalog_) {
        QVariantMap m = v.toMap();
        m.insert(QStringLiteral("installed"), installedNames.contains(m.value(QStringLiteral("file")).toString()));
        v = m;
    }
    if (!err.isEmpty()) setStatus(err);
    emit installedChanged();
}

bool ModelsController::addFromFile(const QString& pathOrUrl) {
    const QString path = pathOrUrl.startsWith(QStringLiteral("file:")) ? QUrl(pathOrUrl).toLocalFile() : pathOrUrl;
    const InstalledModel im = readInstalledModel(path);
    if (!im.error.isEmpty()) {
        setStatus(tr("Not added: %1").arg(im.error));
        return false;
    }
    QSettings s;
    QStringList extra = s.value(kExtraKey).toStringList();
    const QString abs = QFileInfo(path).absoluteFilePath();
    if (!extra.contains(abs)) extra << abs;
    s.setValue(kExtraKey, extra);
    setStatus(tr("Added %1").arg(im.name));
    refresh();
    return true;
}

bool ModelsController::download(const QString& source, const QString& sha256) {
    QString err;
    const QUrl url = ModelDownloader::resolveSource(source, &err);
    if (!url.isValid()) {
        setStatus(err);
        return false;
    }
    const QString dest = QDir(modelsDir_).absoluteFilePath(ModelDownloader::fileNameOf(url));
    const bool ok = downloader_.start(url.toString(), dest, sha256);
    setStatus(ok ? tr("Downloading %1…").arg(ModelDownloader::fileNameOf(url)) : downloader_.error());
    return ok;
}

bool ModelsController::downloadCatalogEntry(int index) {
    if (index < 0 || index >= catalog_.size()) return false;
    const QVariantMap m = catalog_[index].toMap();
    return download(m.value(QStringLiteral("source")).toString(), m.value(QStringLiteral("sha256")).toString());
}

void ModelsController::activate(const QString& path) {
    if (path.isEmpty()) return;
    emit activateRequested(path);
}

void ModelsController::setLoadState(bool loading, double fraction, const QString& stage) {
    loading_ = loading;
    loadFraction_ = fraction;
    loadStage_ = stage;
    emit loadStateChanged();
}

void ModelsController::setActiveModel(const QString& path) {
    if (path == activeModel_) return;
    activeModel_ = path;
    emit activeModelChanged();
    refresh();
}

void ModelsController::setStatus(const QString& s) {
    status_ = s;
    emit statusChanged();
}

}  // namespace bonsai::ui
