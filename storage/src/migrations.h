#pragma once
// The schema, as an ordered list of migrations. Migration N takes a database from user_version N-1 to N.
// Never edit a migration that has shipped: add a new one (tests/storage keeps a copy of migration 1's SQL
// to build an old-version fixture).
#include <vector>

namespace bonsai::storage::detail {

struct Migration {
    int version;      // the user_version after this migration
    const char* sql;  // statements run inside one transaction
};

const std::vector<Migration>& migrations();

}  // namespace bonsai::storage::detail
