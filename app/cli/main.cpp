// bonsai-cli: the command-line face of Bonsai. Subcommands register themselves (command.h).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "bonsai/version.h"
#include "command.h"

namespace bonsai::cli {
std::vector<Command>& registry() {
    static std::vector<Command> commands;
    return commands;
}
}  // namespace bonsai::cli

namespace {

void print_help(std::ostream& out) {
    auto commands = bonsai::cli::registry();
    std::sort(commands.begin(), commands.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    out << "bonsai-cli " << bonsai::engine_version() << " - local 1-bit and ternary language models\n\n"
        << "usage: bonsai-cli [--version | --help] <command> [args...]\n\ncommands:\n";
    for (const auto& c : commands) {
        out << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary << "\n";
    }
    out << "\nRun 'bonsai-cli <command> --help' for a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        print_help(std::cerr);
        return 2;
    }
    const std::string& first = args[0];
    if (first == "--version" || first == "-V" || first == "version") {
        std::cout << "bonsai-cli " << bonsai::engine_version() << "\n";
        return 0;
    }
    if (first == "--help" || first == "-h" || first == "help") {
        print_help(std::cout);
        return 0;
    }
    const auto& commands = bonsai::cli::registry();
    auto it = std::find_if(commands.begin(), commands.end(), [&](const auto& c) { return c.name == first; });
    if (it == commands.end()) {
        std::cerr << "bonsai-cli: unknown command '" << first << "' (see 'bonsai-cli --help')\n";
        return 2;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (std::find(rest.begin(), rest.end(), "--help") != rest.end() ||
        (rest.size() == 1 && rest[0] == "-h")) {
        std::cout << "usage: bonsai-cli " << it->name << " " << it->summary << "\n";
        return 0;
    }
    bonsai::cli::Args parsed(std::move(rest));
    try {
        return it->run(parsed);
    } catch (const bonsai::cli::UsageError& e) {
        std::cerr << "bonsai-cli " << it->name << ": " << e.what() << "\nusage: bonsai-cli " << it->name << " "
                  << it->summary << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "bonsai-cli " << it->name << ": " << e.what() << "\n";
        return 1;
    }
}
