#pragma once
// LocalProvider: the Bonsai engine as a Provider. The model and its Session live on one worker QThread;
// this object (on the caller's thread) forwards requests to it and re-emits its results as signals.
//
//   * One resident model: loadModel() of another file first finishes or cancels what runs, then frees the
//     old model and its KV cache, then loads the new one (loadProgress, then modelLoaded or loadFailed).
//   * Prefix reuse: the Session is kept across requests, so a conversation that resends its history each
//     turn only computes the new part (GenerationStats::reusedPromptTokens says how much was reused).
//   * stop() cancels within one token (Session::cancel), or one prompt batch while the prompt is read.
//   * A prompt longer than the context window drops the oldest turns (never the system prompt nor the
//     last message) until it fits with room for the reply.
#include <QString>
#include <QThread>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "bonsai/model.h"
#include "bonsai/sampler.h"
#include "core/provider.h"

namespace bonsai {
class Session;
}

namespace bonsai::core {

struct LocalProviderConfig {
    int64_t nCtx = 4096;                 // KV cache size in tokens (0: the model's training context)
    int nThreads = 0;                    // CPU threads (0: one per physical core)
    Backend backend = Backend::Auto;
    std::optional<uint64_t> seed;        // sampler seed; unset: a fresh random seed per request
    bool thinking = false;               // let thinking models think (enable_thinking)
    int defaultMaxTokens = 1024;         // when the request sets no limit
    // Adjusts the model's default sampling after each load (e.g. the CLI's --temp); unset: the defaults.
    std::function<SamplingParams(const SamplingParams& modelDefaults)> sampling;
};

class LocalProvider : public Provider {
    Q_OBJECT
public:
    explicit LocalProvider(LocalProviderConfig config = {}, QObject* parent = nullptr);
    ~LocalProvider() override;  // cancels, frees the model and joins the worker

    QString kind() const override { return QStringLiteral("local"); }
    void start(const ChatRequest& request) override;
    void stop() override;
    bool busy() const override { return busy_; }
    // The loaded model's file name without directories ("" when none).
    QString currentModel() const override;

    // Loads `path` on the worker (asynchronously), replacing any resident model.
    void loadModel(const QString& path);
    // Loads and waits (running a local event loop); returns false and sets *error when it failed.
    bool loadModelAndWait(const QString& path, QString* error = nullptr);
    // Frees the model (after the running request, which is cancelled). modelUnloaded follows.
    void unloadModel();
    bool isLoaded() const;
    bool isLoading() const { return loading_; }
    QString modelPath() const;

    // The prompt text the model was given by the last request, after its chat template (empty before
    // the first). For "what exactly did the model see" views and the privacy tests.
    QString lastPrompt() const;

signals:
    void loadStarted(const QString& path);
    // fraction in [0, 1]; stage is a short phrase ("Reading the file", "Preparing the model").
    void loadProgress(double fraction, const QString& stage);
    void modelLoaded(const QString& name);
    void loadFailed(const QString& message);
    void modelUnloaded();

private:
    void runOnWorker(std::function<void()> fn);
    void generateOnWorker(const ChatRequest& request);
    void loadOnWorker(const QString& path);
    void deliverFinished(const GenerationStats& stats);
    void deliverFailed(const QString& message);

    LocalProviderConfig config_;
    QThread thread_;
    QObject* workerContext_ = nullptr;  // lives on thread_; queued calls run there

    // Shared with the worker.
    mutable std::mutex mutex_;
    std::unique_ptr<Model> model_;
    std::unique_ptr<Session> session_;
    SamplingParams sampling_;
    QString modelPath_;
    QString lastPrompt_;
    bool generating_ = false;            // under mutex_: Session::cancel() is only sent while true
    std::atomic<bool> stopRequested_{false};

    // Caller's thread only.
    bool busy_ = false;
    bool loading_ = false;
};

}  // namespace bonsai::core
