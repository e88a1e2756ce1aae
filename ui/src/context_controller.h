#pragma once
// The Personal context page's view model: notes and facts the user keeps for the local model, imported
// text files, search with highlighted snippets, delete. Everything stays local (storage marks every item
// local_only; the conversation service gives it only to the local provider).
// txt and md files are read as UTF-8; PDF text is extracted with poppler-qt6 when the build found it
// (BONSAI_HAVE_POPPLER), else a PDF is refused with a message.
#include <QObject>
#include <QVariantList>
#include <memory>

namespace bonsai::storage {
class Database;
class ContextStore;
}  // namespace bonsai::storage

namespace bonsai::ui {

class ContextController : public QObject {
    Q_OBJECT
    Q_PROPERTY(QVariantList items READ items NOTIFY itemsChanged)
    Q_PROPERTY(QVariantList results READ results NOTIFY resultsChanged)
    Q_PROPERTY(QString status READ status NOTIFY statusChanged)
public:
    explicit ContextController(storage::Database& db, QObject* parent = nullptr);
    ~ContextController() override;

    QVariantList items() const { return items_; }
    QVariantList results() const { return results_; }
    QString status() const { return status_; }

    Q_INVOKABLE void refresh();
    // kind: "note" or "fact". Returns the new id, 0 when refused (status says why).
    Q_INVOKABLE qint64 add(const QString& kind, const QString& title, const QString& text);
    // Imports a .txt, .md or .pdf file (path or file:// URL) as a document. Returns the new id or 0.
    Q_INVOKABLE qint64 importFile(const QString& pathOrUrl);
    Q_INVOKABLE bool remove(qint64 id);
    Q_INVOKABLE void search(const QString& query);

signals:
    void itemsChanged();
    void resultsChanged();
    void statusChanged();

private:
    void setStatus(const QString& s);

    std::unique_ptr<storage::ContextStore> store_;
    QVariantList items_;
    QVariantList results_;
    QString status_;
};

}  // namespace bonsai::ui
