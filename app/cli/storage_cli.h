#pragma once
// Helpers shared by the storage subcommands (`history`, `context`): the database path, ids, files and
// one-line record formatting.
#include <string>
#include <vector>

#include "args.h"

namespace bonsai::cli {

// --db PATH, else the default profile database.
std::string db_path(Args& args);
// The first argument that is not an option: the sub-subcommand word (options are consumed later).
std::string subcommand(const Args& args);
// A positive integer id; throws UsageError naming `what` otherwise.
long long parse_id(const std::string& s, const char* what);
// Whole files, binary; throw std::runtime_error naming the path on failure.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);
// Newlines and tabs become spaces so each record stays on one tab-separated line.
std::string one_line(std::string s);
std::string join(const std::vector<std::string>& v, const char* sep);

}  // namespace bonsai::cli
