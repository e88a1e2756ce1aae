#pragma once
// An assistant reply saved while it is being generated (History::begin_reply creates one).
//
// append() keeps the text in memory and commits it to the database when 500 ms have passed or 32 tokens
// have arrived since the last commit, whichever comes first, so a crash loses at most that much. finish()
// commits the whole text with status 'complete'; interrupt() (or destroying an unfinished reply) commits
// what there is with status 'interrupted'. A reply left 'streaming' by a dead process is marked
// 'interrupted' by the next Database open.
//
// Call append() from the connection's thread; inside an outer Transaction the commits are only savepoints.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "bonsai/storage/types.h"

struct sqlite3;

namespace bonsai::storage {

class StreamingReply {
public:
    static constexpr std::chrono::milliseconds kCommitInterval{500};
    static constexpr int kCommitTokens = 32;

    StreamingReply(sqlite3* db, int64_t message_id, int64_t conversation_id);
    StreamingReply(StreamingReply&& other) noexcept;
    StreamingReply& operator=(StreamingReply&&) = delete;
    StreamingReply(const StreamingReply&) = delete;
    ~StreamingReply();  // interrupt()s an unfinished reply; never throws

    int64_t id() const { return id_; }
    // Adds generated text (n_tokens of it). Returns true when this call committed to the database.
    bool append(std::string_view text_chunk, int n_tokens = 1);
    void flush();  // commits now (still 'streaming')
    // Final commit, status 'complete', with the token counts and timings.
    void finish(int64_t prompt_tokens = 0, const Timings& timings = {});
    void interrupt();  // final commit, status 'interrupted'
    const std::string& content() const { return content_; }
    int64_t tokens() const { return tokens_; }
    bool done() const { return done_; }

private:
    void write(MessageStatus status, const int64_t* prompt_tokens, const Timings* timings);

    sqlite3* db_;
    int64_t id_;
    int64_t conversation_id_;
    std::string content_;
    int64_t tokens_ = 0;
    int tokens_since_commit_ = 0;
    std::chrono::steady_clock::time_point last_commit_;
    bool done_ = false;
};

}  // namespace bonsai::storage
