#include "context_controller.h"

#include <QFile>
#include <QFileInfo>
#include <QUrl>
#include <exception>

#include "bonsai/storage/context_store.h"
#ifdef BONSAI_HAVE_POPPLER
#include <poppler-qt6.h>
#endif
#include "search_result_model.h"

namespace bonsai::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
QString kindName(storage::ContextKind k) {
    const auto v = storage::to_string(k);
    return QString::fromLatin1(v.data(), qsizetype(v.size()));
}
// The text of every page of a PDF, pages separated by blank lines; "" (and *error) when unreadable.
QString pdfText(const QString& path, QString* error) {
#ifdef BONSAI_HAVE_POPPLER
    const std::unique_ptr<Poppler::Document> doc = Poppler::Document::load(path);
    if (!doc || doc->isLocked()) {
        *error = QObject::tr("%1 is not a readable PDF (or it is password-protected).").arg(path);
        return {};
    }
    QStringList pages;
    for (int i = 0; i < doc->numPages(); ++i)
        if (const std::unique_ptr<Poppler::Page> page = doc->page(i)) pages << page->text(QRectF());
    return pages.join(QStringLiteral("\n\n"));
#else
    Q_UNUSED(path);
    *error = QObject::tr("PDF import is not available in this build; save the document as text first.");
    return {};
#endif
}

const QString kOpen = QStringLiteral("\x01");
const QString kClose = QStringLiteral("\x02");
}  // namespace

ContextController::ContextController(storage::Database& db, QObject* parent)
    : QObject(parent), store_(std::make_unique<storage::ContextStore>(db)) {
    refresh();
}

ContextController::~ContextController() = default;

void ContextController::refresh() {
    QVariantList rows;
    try {
        for (const storage::ContextItem& it : store_->list()) {
            rows << QVariantMap{{QStringLiteral("id"), qint64(it.id)},
                                {QStringLiteral("kind"), kindName(it.kind)},
                                {QStringLiteral("title"), qs(it.title)},
                                {QStringLiteral("text"), qs(it.text).left(400)},
                                {QStringLiteral("source"), qs(it.source)}};
        }
    } catch (const std::exception& e) {
        setStatus(QString::fromUtf8(e.what()));
    }
    items_ = rows;
    emit itemsChanged();
}

qint64 ContextController::add(const QString& kind, const QString& title, const QString& text) {
    storage::NewContextItem item;
    item.kind = kind == QStringLiteral("fact") ? storage::ContextKind::fact : storage::ContextKind::note;
    item.text = text.trimmed().toStdString();
    item.title = (title.trimmed().isEmpty() ? text.trimmed().left(40) : title.trimmed()).toStdString();
    if (item.text.empty()) {
        setStatus(tr("Write something first."));
        return 0;
    }
    try {
        const qint64 id = store_->add(item);
        setStatus(tr("Saved on this device only."));
        refresh();
        return id;
    } catch (const std::exception& e) {
        setStatus(QString::fromUtf8(e.what()));
        return 0;
    }
}

qint64 ContextController::importFile(const QString& pathOrUrl) {
    const QString path = pathOrUrl.startsWith(QStringLiteral("file:")) ? QUrl(pathOrUrl).toLocalFile() : pathOrUrl;
    const QString suffix = QFileInfo(path).suffix().toLower();
    const bool pdf = suffix == QStringLiteral("pdf");
    if (!pdf && suffix != QStringLiteral("txt") && suffix != QStringLiteral("md") && suffix != QStringLiteral("markdown")) {
        setStatus(tr("Only .txt, .md and .pdf files can be imported."));
        return 0;
    }
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        setStatus(tr("Cannot read %1: %2").arg(path, f.errorString()));
        return 0;
    }
    constexpr qint64 kMaxBytes = 16 * 1024 * 1024;  // a text file larger than this is not personal notes
    if (f.size() > kMaxBytes) {
        setStatus(tr("%1 is larger than 16 MiB.").arg(QFileInfo(path).fileName()));
        return 0;
    }
    storage::NewContextItem item;
    item.kind = storage::ContextKind::document;
    item.title = QFileInfo(path).fileName().toStdString();
    if (pdf) {
        f.close();
        QString err;
        const QString text = pdfText(path, &err);
        if (!err.isEmpty()) {
            setStatus(err);
            return 0;
        }
        item.text = text.toStdString();
    } else {
        item.text = QString::fromUtf8(f.readAll()).toStdString();
    }
    item.source = path.toStdString();
    if (QString::fromStdString(item.text).trimmed().isEmpty()) {
        setStatus(tr("%1 is empty.").arg(QFileInfo(path).fileName()));
        return 0;
    }
    try {
        const qint64 id = store_->add(item);
        setStatus(tr("Imported %1").arg(QFileInfo(path).fileName()));
        refresh();
        return id;
    } catch (const std::exception& e) {
        setStatus(QString::fromUtf8(e.what()));
        return 0;
    }
}

bool ContextController::remove(qint64 id) {
    bool ok = false;
    try {
        ok = store_->remove(id);
    } catch (const std::exception& e) {
        setStatus(QString::fromUtf8(e.what()));
    }
    refresh();
    return ok;
}

void ContextController::search(const QString& query) {
    QVariantList rows;
    if (!query.trimmed().isEmpty()) {
        storage::ContextSearchOptions o;
        o.limit = 20;
        o.mode = storage::RankMode::bm25;
        o.highlight_open = kOpen.toStdString();
        o.highlight_close = kClose.toStdString();
        try {
            for (const storage::ContextHit& h : store_->search(query.trimmed().toStdString(), o))
                rows << QVariantMap{{QStringLiteral("id"), qint64(h.item_id)},
                                    {QStringLiteral("kind"), kindName(h.kind)},
                                    {QStringLiteral("title"), qs(h.title)},
                                    {QStringLiteral("snippet"),
                                     snippetToHtml(qs(h.snippet), kOpen, kClose, QStringLiteral("#d9480f"))}};
        } catch (const std::exception& e) {
            setStatus(QString::fromUtf8(e.what()));
        }
    }
    results_ = rows;
    emit resultsChanged();
}

void ContextController::setStatus(const QString& s) {
    status_ = s;
    emit statusChanged();
}

}  // namespace bonsai::ui
