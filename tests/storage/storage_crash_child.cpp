// Helper for test_storage_crash: streams conversation turns into a database until it is killed.
// usage: storage_crash_child DB_PATH SEED
// After each commit it prints a line (stdout flushed at once), so the parent knows what must have survived:
//   M <id>            a user message was committed
//   R <id>            a streaming reply row was committed
//   A <id> <tokens>   the reply's first <tokens> tokens were committed
//   F <id> <tokens>   the reply was finished (status complete) with <tokens> tokens
// Token k of every reply is the text "t<k> ", so the parent can check stored content exactly.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "bonsai/storage/database.h"
#include "bonsai/storage/history.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: storage_crash_child DB_PATH SEED\n");
        return 2;
    }
    using namespace bonsai::storage;
    try {
        std::mt19937 rng(static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10)));
        Database db(argv[1]);
        History h(db);
        int64_t c = h.create_conversation({"crash test", Mode::local, "", ""});
        std::printf("C %lld\n", static_cast<long long>(c));
        std::fflush(stdout);
        for (int turn = 0;; ++turn) {
            int64_t u = h.append_message(c, NewMessage{Role::user, "question " + std::to_string(turn), "", "", 0, 0, {}});
            std::printf("M %lld\n", static_cast<long long>(u));
            std::fflush(stdout);
            StreamingReply r = h.begin_reply(c, u, "local", "crash-model");
            std::printf("R %lld\n", static_cast<long long>(r.id()));
            std::fflush(stdout);
            int n = 10 + static_cast<int>(rng() % 90);
            for (int k = 0; k < n; ++k) {
                if (r.append("t" + std::to_string(k) + " ", 1)) {
                    std::printf("A %lld %lld\n", static_cast<long long>(r.id()), static_cast<long long>(r.tokens()));
                    std::fflush(stdout);
                }
                if (rng() % 4 == 0) ::usleep(rng() % 400);
            }
            r.finish(3, Timings{1, 2, 3});
            std::printf("F %lld %d\n", static_cast<long long>(r.id()), n);
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "storage_crash_child: %s\n", e.what());
        return 1;
    }
}
