#include "search_result_model.h"

namespace bonsai::ui {

int SearchResultModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(rows_.size());
}

QVariant SearchResultModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() < 0 || index.row() >= rows_.size()) return {};
    const SearchHitRow& r = rows_[index.row()];
    switch (role) {
    case ConversationIdRole: return r.conversationId;
    case MessageIdRole: return r.messageId;
    case TitleRole: return r.conversationTitle;
    case RoleRole: return r.role;
    case Qt::DisplayRole:
    case SnippetRole: return r.snippetHtml;
    default: return {};
    }
}

QHash<int, QByteArray> SearchResultModel::roleNames() const {
    return {{ConversationIdRole, "conversationId"}, {MessageIdRole, "messageId"}, {TitleRole, "title"},
            {RoleRole, "role"}, {SnippetRole, "snippet"}};
}

void SearchResultModel::setRows(QList<SearchHitRow> rows) {
    const bool countChanges = rows.size() != rows_.size();
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
    if (countChanges) emit countChanged();
}

QString snippetToHtml(const QString& snippet, const QString& open, const QString& close, const QString& colour) {
    QString html;
    int pos = 0;
    while (pos < snippet.size()) {
        const int a = snippet.indexOf(open, pos);
        if (a < 0) break;
        const int b = snippet.indexOf(close, a + open.size());
        if (b < 0) break;
        html += snippet.mid(pos, a - pos).toHtmlEscaped();
        html += QStringLiteral("<b><font color=\"%1\">").arg(colour);
        html += snippet.mid(a + open.size(), b - a - open.size()).toHtmlEscaped();
        html += QStringLiteral("</font></b>");
        pos = b + close.size();
    }
    html += snippet.mid(pos).toHtmlEscaped();
    return html;
}

}  // namespace bonsai::ui
