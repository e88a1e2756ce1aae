#pragma once
// The sidebar's list of conversations. A plain list model: the desktop app fills it from storage,
// tests fill it directly. No global state.
#include <QAbstractListModel>
#include <QDateTime>
#include <QList>

namespace bonsai::ui {

struct ConversationRow {
    qint64 id = 0;
    QString title;
    bool pinned = false;
    QString mode;  // "local" or "cloud"
    QDateTime updated;
};

class ConversationListModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Role { IdRole = Qt::UserRole + 1, TitleRole, PinnedRole, ModeRole, UpdatedRole };
    using QAbstractListModel::QAbstractListModel;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    // Replaces every row; pinned rows first, then most recently updated.
    void setRows(QList<ConversationRow> rows);
    const QList<ConversationRow>& rows() const { return rows_; }

signals:
    void countChanged();

private:
    QList<ConversationRow> rows_;
};

}  // namespace bonsai::ui
