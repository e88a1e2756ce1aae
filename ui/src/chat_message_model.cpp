#include "chat_message_model.h"

#include "markdown_blocks.h"

namespace bonsai::ui {

int ChatMessageModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(rows_.size());
}

QVariant ChatMessageModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() < 0 || index.row() >= rows_.size()) return {};
    const ChatMessageRow& r = rows_[index.row()];
    switch (role) {
    case Qt::DisplayRole:
    case ContentRole: return r.content;
    case IdRole: return r.id;
    case RoleRole: return r.role;
    case BlocksRole: return markdownBlocksForQml(r.content, dark_);
    case ProviderRole: return r.provider;
    case ModelRole: return r.model;
    case TokensPerSecondRole: return r.tokensPerSecond;
    case CompletionTokensRole: return r.completionTokens;
    case StatusRole: return r.status;
    case ErrorRole: return r.error;
    case BranchIndexRole: return r.branchIndex;
    case BranchCountRole: return r.branchCount;
    default: return {};
    }
}

QHash<int, QByteArray> ChatMessageModel::roleNames() const {
    return {{IdRole, "messageId"},       {RoleRole, "role"},          {ContentRole, "content"},
            {BlocksRole, "blocks"},       {ProviderRole, "provider"},  {ModelRole, "model"},
            {TokensPerSecondRole, "tokensPerSecond"}, {CompletionTokensRole, "completionTokens"},
            {StatusRole, "status"},       {ErrorRole, "error"},
            {BranchIndexRole, "branchIndex"}, {BranchCountRole, "branchCount"}};
}

void ChatMessageModel::setRows(QList<ChatMessageRow> rows) {
    const bool countChanges = rows.size() != rows_.size();
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
    if (countChanges) emit countChanged();
}

void ChatMessageModel::append(const ChatMessageRow& row) {
    beginInsertRows({}, int(rows_.size()), int(rows_.size()));
    rows_.push_back(row);
    endInsertRows();
    emit countChanged();
}

void ChatMessageModel::appendToLast(const QString& text) {
    if (rows_.isEmpty()) return;
    rows_.last().content += text;
    const QModelIndex i = index(int(rows_.size()) - 1);
    emit dataChanged(i, i, {ContentRole, BlocksRole});
}

void ChatMessageModel::updateLast(const ChatMessageRow& row) {
    if (rows_.isEmpty()) return;
    rows_.last() = row;
    const QModelIndex i = index(int(rows_.size()) - 1);
    emit dataChanged(i, i);
}

void ChatMessageModel::truncate(int row) {
    if (row < 0) row = 0;
    if (row >= rows_.size()) return;
    beginRemoveRows({}, row, int(rows_.size()) - 1);
    rows_.resize(row);
    endRemoveRows();
    emit countChanged();
}

int ChatMessageModel::rowOfId(qint64 id) const {
    for (int i = 0; i < rows_.size(); ++i)
        if (rows_[i].id == id) return i;
    return -1;
}

void ChatMessageModel::setDark(bool dark) {
    if (dark == dark_) return;
    dark_ = dark;
    emit darkChanged();
    if (!rows_.isEmpty()) emit dataChanged(index(0), index(int(rows_.size()) - 1), {BlocksRole});
}

}  // namespace bonsai::ui
