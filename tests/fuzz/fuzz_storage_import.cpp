// Fuzz target: conversation import (storage::import_json) into a fresh in-memory database.
//
// Invariants for any input (export.h): only storage::Error escapes; a failed import changes nothing
// (no conversation and no message rows afterwards); a successful one returns one id per conversation of
// the document, and exporting those conversations and importing the export into another fresh
// database succeeds with the same conversations and message counts.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "bonsai/storage/database.h"
#include "bonsai/storage/error.h"
#include "bonsai/storage/export.h"
#include "bonsai/storage/history.h"
#include "fuzz_common.h"

namespace {

constexpr const char* kTarget = "storage_import";

int64_t count_rows(const bonsai::storage::Database& db, const char* table) {
    sqlite3_stmt* st = nullptr;
    const std::string sql = std::string("SELECT count(*) FROM ") + table;
    if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
        bonsai::fuzz::fail(kTarget, std::string("cannot count ") + table + ": " + sqlite3_errmsg(db.handle()));
    int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

}  // namespace

int bonsai_fuzz_storage_import(const uint8_t* data, size_t size) {
    using namespace bonsai::storage;
    const std::string text(reinterpret_cast<const char*>(data), size);
    Database db(":memory:");
    History history(db);
    std::vector<int64_t> ids;
    try {
        ids = import_json(history, text);
    } catch (const Error&) {
        BONSAI_FUZZ_CHECK(kTarget, count_rows(db, "conversations") == 0 && count_rows(db, "messages") == 0,
                          "a failed import left rows behind");
        return 0;
    } catch (const std::exception& e) {
        bonsai::fuzz::fail(kTarget, std::string("import threw a non-storage::Error: ") + e.what());
    }
    BONSAI_FUZZ_CHECK(kTarget, count_rows(db, "conversations") == static_cast<int64_t>(ids.size()),
                      "imported conversation count differs from the returned ids");

    std::vector<size_t> counts;
    for (int64_t id : ids) counts.push_back(history.messages(id).size());
    std::string exported;
    try {
        exported = export_json(history, ids);
    } catch (const std::exception& e) {
        bonsai::fuzz::fail(kTarget, std::string("export of an imported document failed: ") + e.what());
    }
    Database db2(":memory:");
    History history2(db2);
    std::vector<int64_t> ids2;
    try {
        ids2 = import_json(history2, exported);
    } catch (const std::exception& e) {
        bonsai::fuzz::fail(kTarget, std::string("re-import of our own export failed: ") + e.what());
    }
    BONSAI_FUZZ_CHECK(kTarget, ids2.size() == ids.size(), "re-import returned a different number of conversations");
    for (size_t i = 0; i < ids2.size(); ++i)
        BONSAI_FUZZ_CHECK(kTarget, history2.messages(ids2[i]).size() == counts[i],
                          "re-imported conversation " + std::to_string(i) + " has a different message count");
    return 0;
}

BONSAI_FUZZ_ENTRY(bonsai_fuzz_storage_import)
