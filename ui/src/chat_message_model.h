#pragma once
// The chat view's list of messages: the active branch of one conversation, oldest first. Filled from
// storage when a conversation opens and grown token by token while an answer streams.
#include <QAbstractListModel>
#include <QList>
#include <QVariantList>

namespace bonsai::ui {

struct ChatMessageRow {
    qint64 id = 0;             // storage message id (0 while not stored yet)
    QString role;              // "user", "assistant", "system"
    QString content;           // Markdown
    QString provider;          // "local", "cloud" or a provider name ("" for user messages)
    QString model;
    double tokensPerSecond = 0;
    qint64 completionTokens = 0;
    QString status;            // "complete", "streaming", "interrupted", "failed"
    QString error;             // why the answer failed, for the user
    int branchIndex = 0;       // 0-based position among edits / regenerations of this message
    int branchCount = 1;       // how many there are (> 1: the view shows "< 2/3 >")
};

class ChatMessageModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(bool dark READ dark WRITE setDark NOTIFY darkChanged)
public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        RoleRole,
        ContentRole,
        BlocksRole,  // markdownBlocksForQml(content): prose and highlighted code blocks
        ProviderRole,
        ModelRole,
        TokensPerSecondRole,
        CompletionTokensRole,
        StatusRole,
        ErrorRole,
        BranchIndexRole,
        BranchCountRole,
    };
    using QAbstractListModel::QAbstractListModel;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setRows(QList<ChatMessageRow> rows);
    void append(const ChatMessageRow& row);
    // Adds text to the last row (the streaming answer).
    void appendToLast(const QString& text);
    // Replaces the last row's fields (a finished or failed answer).
    void updateLast(const ChatMessageRow& row);
    // Removes every row from `row` on (an edit or regeneration replaces the tail).
    void truncate(int row);
    const QList<ChatMessageRow>& rows() const { return rows_; }
    Q_INVOKABLE int rowOfId(qint64 id) const;  // -1 when absent

    bool dark() const { return dark_; }
    void setDark(bool dark);

signals:
    void countChanged();
    void darkChanged();

private:
    QList<ChatMessageRow> rows_;
    bool dark_ = false;
};

}  // namespace bonsai::ui
