#include "conversation_list_model.h"

#include <algorithm>

namespace bonsai::ui {

int ConversationListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() < 0 || index.row() >= rows_.size()) return {};
    const ConversationRow& r = rows_[index.row()];
    switch (role) {
    case Qt::DisplayRole:
    case TitleRole: return r.title;
    case IdRole: return r.id;
    case PinnedRole: return r.pinned;
    case ModeRole: return r.mode;
    case UpdatedRole: return r.updated;
    default: return {};
    }
}

QHash<int, QByteArray> ConversationListModel::roleNames() const {
    return {{IdRole, "conversationId"}, {TitleRole, "title"}, {PinnedRole, "pinned"},
            {ModeRole, "mode"}, {UpdatedRole, "updated"}};
}

void ConversationListModel::setRows(QList<ConversationRow> rows) {
    std::stable_sort(rows.begin(), rows.end(), [](const ConversationRow& a, const ConversationRow& b) {
        if (a.pinned != b.pinned) return a.pinned;
        return a.updated > b.updated;
    });
    const bool countChanges = rows.size() != rows_.size();
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
    if (countChanges) emit countChanged();
}

}  // namespace bonsai::ui
