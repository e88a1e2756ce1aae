#pragma once
// bonsai-cli's subcommand registry. Each subcommand lives in its own cmd_<name>.cpp and registers
// itself with a file-scope `const Registration`, so adding one never edits main.cpp:
//
//   static int run_inspect(bonsai::cli::Args& args);
//   static const bonsai::cli::Registration reg{"inspect", "MODEL [--json]  show metadata and tensors", run_inspect};
//
// Exit codes: 0 success, 1 runtime failure (bad file, I/O error: print the message to stderr),
// 2 usage error (throw UsageError; main prints it with the subcommand's usage line).
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "args.h"

namespace bonsai::cli {

using CommandFn = int (*)(Args& args);

struct Command {
    std::string name;     // the subcommand word, e.g. "inspect"
    std::string summary;  // one line: arguments and what it does, shown by --help
    CommandFn run;        // receives the arguments after the subcommand word
};

// All registered subcommands, sorted by name when listed.
std::vector<Command>& registry();

struct Registration {
    Registration(const char* name, const char* summary, CommandFn fn) {
        registry().push_back(Command{name, summary, fn});
    }
};

}  // namespace bonsai::cli
