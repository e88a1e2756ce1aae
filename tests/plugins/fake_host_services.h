#pragma once
// A test double of the application for the plugin host: records every call and answers completions with
// canned text, streamed in small tokens from a separate thread (as a real provider would). The code under
// test (host, runtimes, plugins) is real.
#include <QMutex>
#include <QMutexLocker>
#include <QThread>
#include <atomic>
#include <thread>
#include <vector>

#include "api/host_services.h"

class FakeHostServices : public bonsai::plugins::HostServices {
public:
    using ChatMessage = bonsai::plugins::ChatMessage;

    ~FakeHostServices() override { joinStreams(); }

    // Test knobs (set before running plugin code).
    QList<ChatMessage> conversationMessages;
    ChatMessage selected;
    std::atomic<bool> cloud{false};
    QList<bonsai::plugins::ContextHit> hits;
    QString clipboard;
    // What a completion answers; by default a fixed sentence.
    std::function<QString(const bonsai::plugins::CompletionRequest&)> reply = [](const auto&) {
        return QStringLiteral("canned reply from the fake provider");
    };
    int tokenChars = 4;  // characters per streamed token

    // Recorded calls.
    QList<bonsai::plugins::CompletionRequest> requests() const { QMutexLocker l(&mutex_); return requests_; }
    QList<ChatMessage> inserted() const { QMutexLocker l(&mutex_); return inserted_; }
    QStringList notifications() const { QMutexLocker l(&mutex_); return notifications_; }
    QStringList composer() const { QMutexLocker l(&mutex_); return composer_; }
    QStringList contextQueries() const { QMutexLocker l(&mutex_); return contextQueries_; }
    QList<quint64> cancelled() const { QMutexLocker l(&mutex_); return cancelled_; }

    void joinStreams() {
        std::vector<std::thread> threads;
        {
            QMutexLocker l(&mutex_);
            threads.swap(streams_);
        }
        for (auto& t : threads) t.join();
    }

    QList<ChatMessage> conversation() override { QMutexLocker l(&mutex_); return conversationMessages; }
    ChatMessage selectedMessage() override { QMutexLocker l(&mutex_); return selected; }
    bool isCloudMode() override { return cloud.load(); }
    quint64 startCompletion(const bonsai::plugins::CompletionRequest& request,
                            bonsai::plugins::CompletionCallbacks callbacks) override {
        QMutexLocker l(&mutex_);
        requests_ << request;
        const quint64 id = static_cast<quint64>(requests_.size());
        const QString text = reply(request);
        const int step = qMax(1, tokenChars);
        streams_.emplace_back([text, step, callbacks] {
            for (qsizetype i = 0; i < text.size(); i += step) callbacks.onToken(text.mid(i, step));
            callbacks.onDone(QString());
        });
        return id;
    }
    void cancelCompletion(quint64 id) override { QMutexLocker l(&mutex_); cancelled_ << id; }
    QList<bonsai::plugins::ContextHit> contextSearch(const QString& query, int) override {
        QMutexLocker l(&mutex_);
        contextQueries_ << query;
        return hits;
    }
    void insertMessage(const QString&, const ChatMessage& m) override { QMutexLocker l(&mutex_); inserted_ << m; }
    void fillComposer(const QString&, const QString& text) override { QMutexLocker l(&mutex_); composer_ << text; }
    void notify(const QString&, const QString& text) override { QMutexLocker l(&mutex_); notifications_ << text; }
    QString clipboardText() override { QMutexLocker l(&mutex_); return clipboard; }
    void setClipboardText(const QString& text) override { QMutexLocker l(&mutex_); clipboard = text; }

private:
    mutable QMutex mutex_;
    QList<bonsai::plugins::CompletionRequest> requests_;
    QList<ChatMessage> inserted_;
    QStringList notifications_, composer_, contextQueries_;
    QList<quint64> cancelled_;
    std::vector<std::thread> streams_;
};
