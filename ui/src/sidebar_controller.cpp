#include "sidebar_controller.h"

#include <QFile>
#include <QUrl>
#include <exception>

#include "bonsai/storage/export.h"
#include "bonsai/storage/history.h"
#include "core/conversation_service.h"

namespace bonsai::ui {

namespace {
// Markers that cannot occur in typed text, so snippets convert to HTML unambiguously.
const QString kOpen = QStringLiteral("\x01");
const QString kClose = QStringLiteral("\x02");
}  // namespace

SidebarController::SidebarController(core::ConversationService* service, storage::Database& db, QObject* parent)
    : QObject(parent), service_(service), history_(std::make_unique<storage::History>(db)) {
    connect(service_, &core::ConversationService::conversationsChanged, this, &SidebarController::refresh);
    connect(service_, &core::ConversationService::titleChanged, this, &SidebarController::refresh);
    connect(service_, &core::ConversationService::modeChanged, this, &SidebarController::refresh);
    connect(service_, &core::ConversationService::replyFinished, this, [this] {
        refresh();
        if (!query_.isEmpty()) search(query_);
    });
    refresh();
}

SidebarController::~SidebarController() = default;

void SidebarController::refresh() {
    QList<ConversationRow> rows;
    for (const core::ConversationSummary& c : service_->conversations()) {
        ConversationRow r;
        r.id = c.id;
        r.title = c.title.isEmpty() ? tr("New chat") : c.title;
        r.pinned = c.pinned;
        r.mode = c.mode;
        r.updated = QDateTime::fromMSecsSinceEpoch(c.updatedAt);
        rows << r;
    }
    conversations_.setRows(std::move(rows));
}

void SidebarController::rename(qint64 id, const QString& title) {
    if (title.trimmed().isEmpty()) return;
    service_->renameConversation(id, title.trimmed());
}

void SidebarController::setPinned(qint64 id, bool pinned) { service_->setPinned(id, pinned); }

void SidebarController::remove(qint64 id) {
    const auto c = service_->conversation(id);
    if (!c) return;
    service_->deleteConversation(id);
    lastDeleted_ = id;
    lastDeletedTitle_ = c->title.isEmpty() ? tr("New chat") : c->title;
    emit undoChanged();
    if (!query_.isEmpty()) search(query_);
}

void SidebarController::undoDelete() {
    if (!lastDeleted_) return;
    service_->restoreConversation(lastDeleted_);
    lastDeleted_ = 0;
    lastDeletedTitle_.clear();
    emit undoChanged();
    if (!query_.isEmpty()) search(query_);
}

void SidebarController::search(const QString& query) {
    if (query_ != query) {
        query_ = query;
        emit queryChanged();
    }
    QList<SearchHitRow> rows;
    if (!query.trimmed().isEmpty()) {
        storage::SearchOptions o;
        o.limit = 50;
        o.highlight_open = kOpen.toStdString();
        o.highlight_close = kClose.toStdString();
        o.snippet_tokens = 16;
        try {
            for (const storage::MessageHit& h : history_->search(query.trimmed().toStdString(), o)) {
                SearchHitRow r;
                r.conversationId = h.message.conversation_id;
                r.messageId = h.message.id;
                r.conversationTitle = QString::fromStdString(h.conversation_title);
                if (r.conversationTitle.isEmpty()) r.conversationTitle = tr("New chat");
                r.role = QString::fromUtf8(storage::to_string(h.message.role).data(),
                                           qsizetype(storage::to_string(h.message.role).size()));
                r.snippetHtml = snippetToHtml(QString::fromStdString(h.snippet), kOpen, kClose,
                                              QStringLiteral("#d9480f"));
                rows << r;
            }
        } catch (const std::exception& e) {
            setStatus(tr("Search failed: %1").arg(QString::fromUtf8(e.what())));
        }
    }
    results_.setRows(std::move(rows));
}

bool SidebarController::exportTo(qint64 id, const QString& format, const QString& path) {
    const QString file = path.startsWith(QStringLiteral("file:")) ? QUrl(path).toLocalFile() : path;
    try {
        const std::vector<int64_t> ids =
            id > 0 ? std::vector<int64_t>{id} : storage::all_conversation_ids(*history_);
        const std::string text = format == QStringLiteral("json") ? storage::export_json(*history_, ids)
                                                                  : storage::export_markdown(*history_, ids);
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            setStatus(tr("Cannot write %1: %2").arg(file, f.errorString()));
            return false;
        }
        f.write(text.data(), qint64(text.size()));
        if (!f.flush()) {
            setStatus(tr("Cannot write %1: %2").arg(file, f.errorString()));
            return false;
        }
    } catch (const std::exception& e) {
        setStatus(tr("Export failed: %1").arg(QString::fromUtf8(e.what())));
        return false;
    }
    setStatus(tr("Exported to %1").arg(file));
    return true;
}

void SidebarController::setStatus(const QString& s) {
    status_ = s;
    emit statusChanged();
}

}  // namespace bonsai::ui
