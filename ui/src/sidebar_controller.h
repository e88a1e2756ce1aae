#pragma once
// The sidebar's view model: the conversation list (new, rename, pin, delete with undo), full-text search
// with highlighted snippets and export to Markdown / JSON through storage.
#include <QObject>
#include <memory>

#include "conversation_list_model.h"
#include "search_result_model.h"

namespace bonsai::core {
class ConversationService;
}
namespace bonsai::storage {
class Database;
class History;
}  // namespace bonsai::storage

namespace bonsai::ui {

class SidebarController : public QObject {
    Q_OBJECT
    Q_PROPERTY(bonsai::ui::ConversationListModel* conversations READ conversations CONSTANT)
    Q_PROPERTY(bonsai::ui::SearchResultModel* searchResults READ searchResults CONSTANT)
    Q_PROPERTY(QString query READ query NOTIFY queryChanged)
    Q_PROPERTY(bool canUndoDelete READ canUndoDelete NOTIFY undoChanged)
    Q_PROPERTY(QString undoTitle READ undoTitle NOTIFY undoChanged)
    Q_PROPERTY(QString status READ status NOTIFY statusChanged)
public:
    // `db` is the database the service works on (search and export read it directly). Both must outlive this.
    SidebarController(core::ConversationService* service, storage::Database& db, QObject* parent = nullptr);
    ~SidebarController() override;

    ConversationListModel* conversations() { return &conversations_; }
    SearchResultModel* searchResults() { return &results_; }
    QString query() const { return query_; }
    bool canUndoDelete() const { return lastDeleted_ != 0; }
    QString undoTitle() const { return lastDeletedTitle_; }
    QString status() const { return status_; }

    Q_INVOKABLE void refresh();
    Q_INVOKABLE void rename(qint64 id, const QString& title);
    Q_INVOKABLE void setPinned(qint64 id, bool pinned);
    // Moves the conversation to the trash; undoDelete() brings it back.
    Q_INVOKABLE void remove(qint64 id);
    Q_INVOKABLE void undoDelete();
    // Searches every live conversation; an empty query clears the results.
    Q_INVOKABLE void search(const QString& query);
    // Writes one conversation (id > 0) or all (id 0) as "md" or "json" to `path` (a path or file:// URL).
    // Returns false and sets status on failure.
    Q_INVOKABLE bool exportTo(qint64 id, const QString& format, const QString& path);

signals:
    void queryChanged();
    void undoChanged();
    void statusChanged();

private:
    void setStatus(const QString& s);

    core::ConversationService* service_;
    std::unique_ptr<storage::History> history_;
    ConversationListModel conversations_;
    SearchResultModel results_;
    QString query_;
    qint64 lastDeleted_ = 0;
    QString lastDeletedTitle_;
    QString status_;
};

}  // namespace bonsai::ui
