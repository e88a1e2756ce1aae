#pragma once
// The chat view's view model: one open conversation, its messages, the composer's actions (send, stop,
// regenerate, edit-and-resend, slash commands), the Local/Cloud switch and the context-usage meter.
// A plain QObject over core::ConversationService; QML only calls its invokables and reads properties.
#include <QHash>
#include <QObject>
#include <QPointer>
#include <functional>

#include "chat_message_model.h"

namespace bonsai::core {
class ConversationService;
struct GenerationStats;
}  // namespace bonsai::core
namespace bonsai::plugins {
class PluginHost;
}

namespace bonsai::ui {

class ChatController : public QObject {
    Q_OBJECT
    Q_PROPERTY(bonsai::ui::ChatMessageModel* messages READ messages CONSTANT)
    Q_PROPERTY(qint64 conversationId READ conversationId NOTIFY conversationChanged)
    Q_PROPERTY(QString title READ title NOTIFY titleChanged)
    Q_PROPERTY(QString mode READ mode NOTIFY modeChanged)
    Q_PROPERTY(bool cloud READ cloud NOTIFY modeChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(bool useContext READ useContext WRITE setUseContext NOTIFY useContextChanged)
    Q_PROPERTY(QString localModel READ localModel WRITE setLocalModel NOTIFY modelsChanged)
    Q_PROPERTY(QString cloudModel READ cloudModel WRITE setCloudModel NOTIFY modelsChanged)
    Q_PROPERTY(int contextUsed READ contextUsed NOTIFY contextUsageChanged)
    Q_PROPERTY(int contextSize READ contextSize WRITE setContextSize NOTIFY contextUsageChanged)
    Q_PROPERTY(QString errorText READ errorText NOTIFY errorTextChanged)
    Q_PROPERTY(QStringList slashCommands READ slashCommands NOTIFY slashCommandsChanged)
    Q_PROPERTY(QString notice READ notice NOTIFY noticeChanged)
public:
    ChatController(core::ConversationService* service, QObject* parent = nullptr);

    ChatMessageModel* messages() { return &messages_; }
    qint64 conversationId() const { return conversationId_; }
    QString title() const;
    QString mode() const;
    bool cloud() const { return mode() == QStringLiteral("cloud"); }
    bool busy() const;
    bool useContext() const { return useContext_.value(conversationId_, false); }
    void setUseContext(bool on);
    QString localModel() const { return localModel_; }
    void setLocalModel(const QString& name);
    QString cloudModel() const { return cloudModel_; }
    void setCloudModel(const QString& name);
    // Tokens of the visible conversation (the last reply's prompt + completion when known, else an
    // estimate of 4 characters per token) against the local model's context length.
    int contextUsed() const { return contextUsed_; }
    int contextSize() const { return contextSize_; }
    void setContextSize(int n);
    QString errorText() const { return errorText_; }
    // The last plugin notification ("" when none), shown above the composer.
    QString notice() const { return notice_; }
    QStringList slashCommands() const;

    // Plugins contributing slash commands (optional, not owned).
    void setPluginHost(plugins::PluginHost* host);
    // Which plugins the user left enabled (PluginsController::isUserEnabled); unset: all.
    void setPluginFilter(std::function<bool(const QString&)> enabled) { pluginEnabled_ = std::move(enabled); }

    Q_INVOKABLE void newChat();
    Q_INVOKABLE void openConversation(qint64 id);
    // Sends the composer's text; "/name args" runs a plugin command instead. Returns false when refused.
    Q_INVOKABLE bool send(const QString& text);
    Q_INVOKABLE void stop();
    // Regenerates the answer `messageId` (0: the last answer).
    Q_INVOKABLE void regenerate(qint64 messageId = 0);
    Q_INVOKABLE void editAndResend(qint64 messageId, const QString& text);
    Q_INVOKABLE void setMode(const QString& mode);
    Q_INVOKABLE void switchBranch(qint64 messageId, int delta);
    Q_INVOKABLE void copyToClipboard(const QString& text);
    Q_INVOKABLE void clearError();

signals:
    void conversationChanged();
    void titleChanged();
    void modeChanged();
    void busyChanged();
    void useContextChanged();
    void modelsChanged();
    void contextUsageChanged();
    void errorTextChanged();
    void slashCommandsChanged();
    void noticeChanged();
    // A plugin asked to put text into the composer.
    void composerFill(const QString& text);
    // A reply finished in the open conversation (for tests and the status line).
    void replyDone(qint64 messageId);

private:
    void reload();
    void ensureConversation();
    void setError(const QString& text);
    void updateContextUsage();
    void onReplyStarted(qint64 conversationId, qint64 messageId);
    void onReplyToken(qint64 conversationId, qint64 messageId, const QString& text);
    void onReplyFinished(qint64 conversationId, qint64 messageId, const core::GenerationStats& stats);
    void onReplyFailed(qint64 conversationId, qint64 messageId, const QString& message);

    core::ConversationService* service_;
    QPointer<plugins::PluginHost> plugins_;
    std::function<bool(const QString&)> pluginEnabled_;
    ChatMessageModel messages_;
    qint64 conversationId_ = 0;
    qint64 streamingId_ = 0;  // the reply streaming into the open conversation, 0 when none
    QHash<qint64, bool> useContext_;
    QString localModel_;
    QString cloudModel_;
    int contextUsed_ = 0;
    int contextSize_ = 4096;
    QString pendingMode_;     // the mode chosen before the first message created the conversation
    int lastReplyTokens_ = -1;  // prompt + completion of the last finished reply, -1 when unknown
    QString errorText_;
    QString notice_;
};

}  // namespace bonsai::ui
