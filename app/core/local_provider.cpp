#include "core/local_provider.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <random>

#include "bonsai/chat.h"
#include "bonsai/session.h"

namespace bonsai::core {

namespace {

constexpr qint64 kReadChunk = 16 * 1024 * 1024;
constexpr int64_t kReplyRoom = 64;  // tokens kept free for the reply when old turns must be dropped

QString finishReasonOf(StopReason r) {
    switch (r) {
    case StopReason::MaxTokens:
    case StopReason::ContextFull:
        return QStringLiteral("length");
    case StopReason::Cancelled:
    case StopReason::Callback:
        return QStringLiteral("cancelled");
    default:
        return QStringLiteral("stop");
    }
}

}  // namespace

LocalProvider::LocalProvider(LocalProviderConfig config, QObject* parent) : Provider(parent), config_(std::move(config)) {
    thread_.setObjectName(QStringLiteral("bonsai-engine"));
    workerContext_ = new QObject;
    workerContext_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, workerContext_, &QObject::deleteLater);
    thread_.start();
}

LocalProvider::~LocalProvider() {
    stop();
    runOnWorker([this] {
        std::lock_guard lock(mutex_);
        session_.reset();
        model_.reset();
    });
    thread_.quit();
    thread_.wait();
}

void LocalProvider::runOnWorker(std::function<void()> fn) {
    QMetaObject::invokeMethod(workerContext_, std::move(fn), Qt::QueuedConnection);
}

QString LocalProvider::currentModel() const {
    std::lock_guard lock(mutex_);
    return model_ ? QFileInfo(modelPath_).fileName() : QString();
}

bool LocalProvider::isLoaded() const {
    std::lock_guard lock(mutex_);
    return model_ != nullptr;
}

QString LocalProvider::modelPath() const {
    std::lock_guard lock(mutex_);
    return model_ ? modelPath_ : QString();
}

QString LocalProvider::lastPrompt() const {
    std::lock_guard lock(mutex_);
    return lastPrompt_;
}

void LocalProvider::loadModel(const QString& path) {
    if (busy_) stop();  // the cancelled request finishes first: the worker runs one thing at a time
    loading_ = true;
    emit loadStarted(path);
    runOnWorker([this, path] { loadOnWorker(path); });
}

bool LocalProvider::loadModelAndWait(const QString& path, QString* error) {
    QEventLoop loop;
    bool ok = false;
    QString message;
    auto c1 = connect(this, &LocalProvider::modelLoaded, &loop, [&] {
        ok = true;
        loop.quit();
    });
    auto c2 = connect(this, &LocalProvider::loadFailed, &loop, [&](const QString& m) {
        message = m;
        loop.quit();
    });
    loadModel(path);
    loop.exec();
    disconnect(c1);
    disconnect(c2);
    if (error) *error = message;
    return ok;
}

void LocalProvider::unloadModel() {
    if (busy_) stop();
    runOnWorker([this] {
        {
            std::lock_guard lock(mutex_);
            session_.reset();
            model_.reset();
            modelPath_.clear();
        }
        QMetaObject::invokeMethod(this, [this] { emit modelUnloaded(); }, Qt::QueuedConnection);
    });
}

void LocalProvider::loadOnWorker(const QString& path) {
    auto progress = [this](double f, const QString& stage) {
        QMetaObject::invokeMethod(this, [this, f, stage] { emit loadProgress(f, stage); }, Qt::QueuedConnection);
    };
    auto fail = [this](const QString& m) {
        QMetaObject::invokeMethod(this, [this, m] {
            loading_ = false;
            emit loadFailed(m);
        }, Qt::QueuedConnection);
    };
    // Free the resident model first: two models at once could exceed the machine's memory.
    {
        std::lock_guard lock(mutex_);
        session_.reset();
        model_.reset();
        modelPath_.clear();
    }
    // Reading the file once warms the page cache the memory map then uses, and gives real progress.
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        fail(tr("Cannot open the model file %1: %2").arg(path, f.errorString()));
        return;
    }
    const qint64 size = f.size();
    qint64 done = 0;
    int lastPercent = -1;
    QByteArray buf;
    while (!f.atEnd()) {
        buf = f.read(kReadChunk);
        if (buf.isEmpty()) break;
        done += buf.size();
        const int percent = size > 0 ? static_cast<int>(done * 80 / size) : 80;
        if (percent != lastPercent) {
            progress(percent / 100.0, tr("Reading the model file"));
            lastPercent = percent;
        }
    }
    f.close();
    progress(0.85, tr("Preparing the model"));
    try {
        ModelParams mp;
        mp.backend = config_.backend;
        mp.n_threads = config_.nThreads;
        auto model = Model::load(path.toStdString(), mp);
        if (!model->tokenizer()) throw Error("the model file carries no tokenizer, so it cannot chat");
        SessionParams sp;
        sp.n_ctx = config_.nCtx;
        sp.sampling = config_.sampling ? config_.sampling(model->default_sampling()) : model->default_sampling();
        auto session = std::make_unique<Session>(*model, sp);
        {
            std::lock_guard lock(mutex_);
            sampling_ = sp.sampling;
            model_ = std::move(model);
            session_ = std::move(session);
            modelPath_ = path;
        }
    } catch (const std::exception& e) {
        fail(tr("Cannot load the model %1: %2").arg(QFileInfo(path).fileName(), QString::fromUtf8(e.what())));
        return;
    }
    progress(1.0, tr("Ready"));
    const QString name = QFileInfo(path).fileName();
    QMetaObject::invokeMethod(this, [this, name] {
        loading_ = false;
        emit modelLoaded(name);
    }, Qt::QueuedConnection);
}

void LocalProvider::start(const ChatRequest& request) {
    if (busy_) {
        emit failed(tr("A reply is already being generated; stop it first."));
        return;
    }
    if (!loading_ && !isLoaded()) {
        emit failed(tr("No local model is loaded. Choose a model first."));
        return;
    }
    busy_ = true;
    stopRequested_ = false;
    runOnWorker([this, request] { generateOnWorker(request); });
}

void LocalProvider::stop() {
    if (!busy_) return;
    stopRequested_ = true;
    std::lock_guard lock(mutex_);
    // Only while generate() runs: a cancel sent to an idle Session would stop its next call at once.
    if (generating_ && session_) session_->cancel();
}

void LocalProvider::generateOnWorker(const ChatRequest& request) {
    auto failWith = [this](const QString& m) {
        QMetaObject::invokeMethod(this, [this, m] { deliverFailed(m); }, Qt::QueuedConnection);
    };
    GenerationStats out;
    try {
        std::unique_lock lock(mutex_);
        if (!model_ || !session_) {
            lock.unlock();
            failWith(tr("No local model is loaded. Choose a model first."));
            return;
        }
        Model& model = *model_;
        Session& session = *session_;
        out.model = QFileInfo(modelPath_).fileName();

        std::vector<ChatMessage> msgs;
        for (const ChatTurn& t : request.messages) msgs.push_back({t.role.toStdString(), t.content.toStdString()});
        ChatPromptOptions po;
        if (!config_.thinking) po.extra = {{"enable_thinking", false}};
        ChatPrompt prompt = build_chat_prompt(model, msgs, po);
        // Too long for the window: drop the oldest turns, keeping a leading system message and the last turn.
        while (static_cast<int64_t>(prompt.tokens.size()) + kReplyRoom > session.n_ctx()) {
            const size_t first = (!msgs.empty() && msgs.front().role == "system") ? 1 : 0;
            if (msgs.size() <= first + 1) break;
            msgs.erase(msgs.begin() + static_cast<std::ptrdiff_t>(first));
            prompt = build_chat_prompt(model, msgs, po);
        }
        if (static_cast<int64_t>(prompt.tokens.size()) >= session.n_ctx()) {
            lock.unlock();
            failWith(tr("The message is too long for the model's context window (%1 tokens, the window holds %2).")
                         .arg(prompt.tokens.size())
                         .arg(session.n_ctx()));
            return;
        }
        lastPrompt_ = QString::fromStdString(prompt.text);

        GenerateOptions go;
        go.max_tokens = request.maxTokens > 0 ? request.maxTokens : config_.defaultMaxTokens;
        go.stop_strings = chat_stop_strings(model, prompt);
        SamplingParams sampling = sampling_;
        if (request.temperature >= 0) sampling.temperature = static_cast<float>(request.temperature);
        if (request.topP >= 0) sampling.top_p = static_cast<float>(request.topP);
        session.set_sampling(sampling, config_.seed ? *config_.seed : std::random_device{}());

        if (stopRequested_) {
            lock.unlock();
            out.finishReason = QStringLiteral("cancelled");
            QMetaObject::invokeMethod(this, [this, out] { deliverFinished(out); }, Qt::QueuedConnection);
            return;
        }
        generating_ = true;
        lock.unlock();  // stop() needs the mutex to cancel while we generate

        GenerationResult r;
        QString error;
        try {
            r = session.generate(prompt.tokens, go, [this](int32_t, std::string_view text) {
                if (!text.empty()) {
                    const QString piece = QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
                    QMetaObject::invokeMethod(this, [this, piece] { emit token(piece); }, Qt::QueuedConnection);
                }
                return !stopRequested_.load();
            });
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        lock.lock();
        generating_ = false;
        lock.unlock();
        if (!error.isEmpty()) {
            if (stopRequested_) {  // cancelled while the prompt was being read
                out.finishReason = QStringLiteral("cancelled");
                QMetaObject::invokeMethod(this, [this, out] { deliverFinished(out); }, Qt::QueuedConnection);
            } else {
                failWith(tr("The local model failed: %1").arg(error));
            }
            return;
        }
        const bonsai::GenerationStats& s = r.stats;
        out.promptTokens = static_cast<int>(s.n_prompt);
        out.reusedPromptTokens = static_cast<int>(s.n_reused);
        // The final end-of-generation token is counted by the engine but is not text.
        out.completionTokens = static_cast<int>(r.stop == StopReason::EndOfGeneration && s.n_generated > 0 ? s.n_generated - 1
                                                                                                          : s.n_generated);
        out.promptMs = s.prompt_ms;
        out.generationMs = s.decode_ms;
        out.secondsToFirstToken = s.ttft_ms / 1000.0;
        out.tokensPerSecond = s.decode_tps();
        out.finishReason = stopRequested_ ? QStringLiteral("cancelled") : finishReasonOf(r.stop);
        QMetaObject::invokeMethod(this, [this, out] { deliverFinished(out); }, Qt::QueuedConnection);
    } catch (const std::exception& e) {
        failWith(tr("The local model failed: %1").arg(QString::fromUtf8(e.what())));
    }
}

void LocalProvider::deliverFinished(const GenerationStats& stats) {
    busy_ = false;
    emit finished(stats);
}

void LocalProvider::deliverFailed(const QString& message) {
    busy_ = false;
    emit failed(message);
}

}  // namespace bonsai::core
