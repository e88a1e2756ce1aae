// Storage benchmark (not a test): inserts 100,000 messages (1,000 conversations x 100), then times
// full-text searches over them, streaming-reply commits and context-store retrieval, and prints the sizes.
// usage: bench_storage [DB_PATH]   (default /tmp/bonsai_bench_storage.sqlite3, deleted first)
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bonsai/storage/context_store.h"
#include "bonsai/storage/database.h"
#include "bonsai/storage/history.h"

using namespace bonsai::storage;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// A 5,000-word pseudo vocabulary with Zipf-like frequencies, so searches hit common and rare words.
struct Text {
    std::vector<std::string> words;
    std::mt19937 rng{12345};
    Text() {
        const char* syl[] = {"ka", "lo", "mi", "ren", "to", "sa", "vi", "ne", "qu", "ar", "bel", "dor", "fi", "gu"};
        for (int i = 0; words.size() < 5000; ++i) {
            std::string w;
            for (int x = i + 1; x > 0; x /= 14) w += syl[x % 14];
            words.push_back(w);
        }
    }
    std::string word() {
        // Inverse-CDF of a 1/rank law, cheaply: rank = exp(u * ln N).
        double u = std::uniform_real_distribution<double>(0, 1)(rng);
        size_t r = static_cast<size_t>(std::exp(u * std::log(double(words.size())))) - 1;
        return words[std::min(r, words.size() - 1)];
    }
    std::string sentence(int n) {
        std::string s;
        for (int i = 0; i < n; ++i) {
            if (i) s += ' ';
            s += word();
        }
        s += '.';
        return s;
    }
};

uint64_t file_size(const std::string& p) {
    std::error_code ec;
    auto s = std::filesystem::file_size(p, ec);
    return ec ? 0 : s;
}

void report(const char* what, std::vector<double>& t) {
    std::sort(t.begin(), t.end());
    double sum = 0;
    for (double x : t) sum += x;
    std::printf("%-40s n=%4zu  mean %.3f ms  median %.3f ms  p95 %.3f ms  max %.3f ms\n", what, t.size(), sum / t.size(),
                t[t.size() / 2], t[t.size() * 95 / 100], t.back());
}

}  // namespace

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "/tmp/bonsai_bench_storage.sqlite3";
    for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::filesystem::remove(path + suffix);
    Database db(path);
    History h(db);
    Text text;

    auto t0 = Clock::now();
    int64_t messages = 0;
    for (int c = 0; c < 1000; ++c) {
        Transaction tx(db);  // one commit per conversation
        int64_t id = h.create_conversation({"Conversation " + std::to_string(c), Mode::local, "bonsai", ""});
        for (int m = 0; m < 100; ++m, ++messages) {
            int n = 8 + static_cast<int>(text.rng() % 60);
            h.append_message(id, NewMessage{m % 2 ? Role::assistant : Role::user, text.sentence(n), "local", "bonsai",
                                            0, 0, {}});
        }
        tx.commit();
    }
    double insert_ms = ms_since(t0);
    std::printf("inserted %lld messages in %.0f ms (%.1f us/message, one transaction per 100)\n",
                static_cast<long long>(messages), insert_ms, insert_ms * 1000 / messages);

    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    std::printf("database size: %.1f MiB (wal %.1f MiB)\n", file_size(path) / 1048576.0,
                file_size(path + "-wal") / 1048576.0);

    std::vector<double> common, rare, two, prefix;
    size_t hits = 0;
    for (int i = 0; i < 200; ++i) {
        auto t = Clock::now();
        hits += h.search(text.words[text.rng() % 20]).size();  // frequent words: many matches, top 20 kept
        common.push_back(ms_since(t));
        t = Clock::now();
        hits += h.search(text.words[1000 + text.rng() % 4000]).size();
        rare.push_back(ms_since(t));
        t = Clock::now();
        hits += h.search(text.words[text.rng() % 200] + " " + text.words[text.rng() % 200]).size();
        two.push_back(ms_since(t));
        t = Clock::now();
        hits += h.search(text.words[text.rng() % 500].substr(0, 3) + "*").size();
        prefix.push_back(ms_since(t));
    }
    report("search: one frequent word (top 20)", common);
    report("search: one rare word", rare);
    report("search: two words", two);
    report("search: 3-letter prefix*", prefix);

    {
        int64_t c = h.create_conversation({"Streaming", Mode::local, "", ""});
        std::vector<double> flush;
        for (int r = 0; r < 20; ++r) {
            StreamingReply reply = h.begin_reply(c, std::nullopt, "local", "bonsai");
            for (int k = 0; k < 320; ++k) {
                auto t = Clock::now();
                if (reply.append(text.word() + " ", 1)) flush.push_back(ms_since(t));
            }
            reply.finish();
        }
        report("streaming reply commit (synchronous=FULL)", flush);
    }

    {
        ContextStore store(db);
        auto t = Clock::now();
        {
            Transaction tx(db);
            for (int i = 0; i < 1000; ++i) {
                std::string doc;
                for (int p = 0; p < 8; ++p) doc += text.sentence(40) + " " + text.sentence(30) + "\n\n";
                store.add({ContextKind::document, "Doc " + std::to_string(i), doc, "", {}});
            }
            tx.commit();
        }
        long long chunks = 0;
        for (const auto& it : store.list()) chunks += it.chunk_count;
        std::printf("context store: 1000 documents, %lld chunks, added in %.0f ms\n", chunks, ms_since(t));
        std::vector<double> ctx;
        for (int i = 0; i < 200; ++i) {
            auto t1 = Clock::now();
            hits += store.search(text.sentence(6), {8, RankMode::bm25}).size();
            ctx.push_back(ms_since(t1));
        }
        report("context search: 6-word question, BM25", ctx);
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    std::printf("final database size: %.1f MiB (%zu hits total)\n", file_size(path) / 1048576.0, hits);
    return 0;
}
