// A reply persisted while it grows (see streaming_reply.h for the commit policy).
#include "bonsai/storage/streaming_reply.h"

#include "bonsai/storage/database.h"
#include "sqlite_util.h"

namespace bonsai::storage {

StreamingReply::StreamingReply(sqlite3* db, int64_t message_id, int64_t conversation_id)
    : db_(db), id_(message_id), conversation_id_(conversation_id), last_commit_(std::chrono::steady_clock::now()) {}

StreamingReply::StreamingReply(StreamingReply&& o) noexcept
    : db_(o.db_),
      id_(o.id_),
      conversation_id_(o.conversation_id_),
      content_(std::move(o.content_)),
      tokens_(o.tokens_),
      tokens_since_commit_(o.tokens_since_commit_),
      last_commit_(o.last_commit_),
      done_(o.done_) {
    o.done_ = true;  // the moved-from object must not write on destruction
}

StreamingReply::~StreamingReply() {
    if (done_) return;
    try {
        interrupt();
    } catch (...) {
        // A destructor must not throw; the next open marks the still-'streaming' row interrupted anyway.
    }
}

bool StreamingReply::append(std::string_view chunk, int n_tokens) {
    if (done_) throw Error("reply " + std::to_string(id_) + " is already finished");
    content_.append(chunk);
    if (n_tokens > 0) {
        tokens_ += n_tokens;
        tokens_since_commit_ += n_tokens;
    }
    if (tokens_since_commit_ >= kCommitTokens || std::chrono::steady_clock::now() - last_commit_ >= kCommitInterval) {
        flush();
        return true;
    }
    return false;
}

void StreamingReply::flush() {
    if (done_) return;
    write(MessageStatus::streaming, nullptr, nullptr);
}

void StreamingReply::finish(int64_t prompt_tokens, const Timings& timings) {
    if (done_) throw Error("reply " + std::to_string(id_) + " is already finished");
    write(MessageStatus::complete, &prompt_tokens, &timings);
    done_ = true;
}

void StreamingReply::interrupt() {
    if (done_) return;
    write(MessageStatus::interrupted, nullptr, nullptr);
    done_ = true;
}

void StreamingReply::write(MessageStatus status, const int64_t* prompt_tokens, const Timings* t) {
    detail::Tx tx(db_);
    {
        detail::Stmt s(db_, t ? "UPDATE messages SET content = ?, completion_tokens = ?, status = ?, prompt_tokens = ?, "
                                "prompt_ms = ?, generation_ms = ?, tokens_per_second = ? WHERE id = ?"
                              : "UPDATE messages SET content = ?, completion_tokens = ?, status = ? WHERE id = ?");
        s.bind(1, content_).bind(2, tokens_).bind(3, to_string(status));
        if (t) {
            s.bind(4, *prompt_tokens).bind(5, t->prompt_ms).bind(6, t->generation_ms).bind(7, t->tokens_per_second);
            s.bind(8, id_);
        } else {
            s.bind(4, id_);
        }
        s.run();
        if (sqlite3_changes(db_) != 1) throw Error("reply " + std::to_string(id_) + " no longer exists");
    }
    if (status != MessageStatus::streaming) {
        detail::Stmt u(db_, "UPDATE conversations SET updated_at = ? WHERE id = ?");
        u.bind(1, now_ms()).bind(2, conversation_id_);
        u.run();
    }
    tx.commit();
    tokens_since_commit_ = 0;
    last_commit_ = std::chrono::steady_clock::now();
}

}  // namespace bonsai::storage
