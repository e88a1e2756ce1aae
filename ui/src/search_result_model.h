#pragma once
// Full-text search hits for the sidebar: conversation, message and a snippet with the matches marked.
#include <QAbstractListModel>
#include <QList>

namespace bonsai::ui {

struct SearchHitRow {
    qint64 conversationId = 0;
    qint64 messageId = 0;
    QString conversationTitle;
    QString role;
    QString snippetHtml;  // HTML-escaped text with each match in <b><font color=...>
};

class SearchResultModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Role { ConversationIdRole = Qt::UserRole + 1, MessageIdRole, TitleRole, RoleRole, SnippetRole };
    using QAbstractListModel::QAbstractListModel;
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    void setRows(QList<SearchHitRow> rows);
    const QList<SearchHitRow>& rows() const { return rows_; }

signals:
    void countChanged();

private:
    QList<SearchHitRow> rows_;
};

// A storage snippet whose matches are wrapped in `open`/`close` markers, as safe HTML with each match
// highlighted (the rest escaped).
QString snippetToHtml(const QString& snippet, const QString& open, const QString& close, const QString& colour);

}  // namespace bonsai::ui
