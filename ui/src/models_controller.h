#pragma once
// The Models page's view model: installed models (GGUF header facts + memory estimate for the chosen
// context), the built-in catalog (resources/catalog/models.json) with "can this machine run it",
// adding a file, downloading (ModelDownloader), engine settings (backend, threads, context) and the
// load progress of the active model. Lists are QVariantLists of maps, one map per row.
#include <QObject>
#include <QStringList>
#include <QVariantList>

#include "model_downloader.h"

namespace bonsai::ui {

class ModelsController : public QObject {
    Q_OBJECT
    Q_PROPERTY(QVariantList installed READ installed NOTIFY installedChanged)
    Q_PROPERTY(QVariantList catalog READ catalog NOTIFY installedChanged)
    Q_PROPERTY(bonsai::ui::ModelDownloader* downloader READ downloader CONSTANT)
    Q_PROPERTY(QString activeModel READ activeModel NOTIFY activeModelChanged)
    Q_PROPERTY(int contextLength READ contextLength WRITE setContextLength NOTIFY settingsChanged)
    Q_PROPERTY(QString backend READ backend WRITE setBackend NOTIFY settingsChanged)
    Q_PROPERTY(int threads READ threads WRITE setThreads NOTIFY settingsChanged)
    Q_PROPERTY(QString physicalMemory READ physicalMemoryText CONSTANT)
    Q_PROPERTY(bool loading READ loading NOTIFY loadStateChanged)
    Q_PROPERTY(double loadFraction READ loadFraction NOTIFY loadStateChanged)
    Q_PROPERTY(QString loadStage READ loadStage NOTIFY loadStateChanged)
    Q_PROPERTY(QString status READ status NOTIFY statusChanged)
public:
    // `modelsDir`: where downloads go and which folder is scanned; `extraModels`: files outside it that
    // are always listed (the bundled default model).
    ModelsController(QString modelsDir, QStringList extraModels, QObject* parent = nullptr);

    QVariantList installed() const { return installed_; }
    QVariantList catalog() const { return catalog_; }
    ModelDownloader* downloader() { return &downloader_; }
    QString activeModel() const { return activeModel_; }
    int contextLength() const { return contextLength_; }
    void setContextLength(int n);
    QString backend() const { return backend_; }
    void setBackend(const QString& b);  // "auto", "cpu" or "vulkan"
    int threads() const { return threads_; }
    void setThreads(int n);  // 0: all cores
    QString physicalMemoryText() const;
    bool loading() const { return loading_; }
    double loadFraction() const { return loadFraction_; }
    QString loadStage() const { return loadStage_; }
    QString status() const { return status_; }

    // Parses a catalog document; rows get canRun/installed filled in. Exposed for tests.
    static QVariantList parseCatalog(const QByteArray& json, qint64 physicalMemory, int context, QString* error);

    Q_INVOKABLE void refresh();
    // Lists a GGUF file from anywhere (remembered in the settings). False when it is not a readable GGUF.
    Q_INVOKABLE bool addFromFile(const QString& pathOrUrl);
    // Downloads a URL or "org/repo/file.gguf" into the models folder.
    Q_INVOKABLE bool download(const QString& source, const QString& sha256 = QString());
    Q_INVOKABLE bool downloadCatalogEntry(int index);
    // Asks the app to load this model (activateRequested); the app reports back through setLoadState.
    Q_INVOKABLE void activate(const QString& path);

    // Called by the app while the local provider loads a model.
    void setLoadState(bool loading, double fraction, const QString& stage);
    void setActiveModel(const QString& path);

signals:
    void installedChanged();
    void activeModelChanged();
    void settingsChanged();
    void loadStateChanged();
    void statusChanged();
    void activateRequested(const QString& path);

private:
    void setStatus(const QString& s);

    QString modelsDir_;
    QStringList extraModels_;
    QVariantList installed_;
    QVariantList catalog_;
    ModelDownloader downloader_;
    QString activeModel_;
    int contextLength_ = 4096;
    QString backend_ = QStringLiteral("auto");
    int threads_ = 0;
    bool loading_ = false;
    double loadFraction_ = 0;
    QString loadStage_;
    QString status_;
};

}  // namespace bonsai::ui
