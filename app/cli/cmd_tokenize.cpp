// bonsai-cli tokenize MODEL [--ids] [--special] (--file F | TEXT): the model's tokenizer on a text.
//   default    user text: no BOS/EOS, special-token texts are plain text (llama.cpp's test .out files)
//   --special  BOS/EOS as the model's metadata says and special tokens recognised (a rendered chat prompt)
//   --file F   the file's bytes exactly (nothing stripped)
//   --ids      ids on one line separated by spaces (an empty line for none); otherwise "id<TAB>piece"
//              per line, with non-printable bytes escaped (\n \r \t \\ \xNN, C1 controls as \uNNNN).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bonsai/gguf.h"
#include "bonsai/tokenizer.h"
#include "command.h"

namespace {

using bonsai::cli::UsageError;

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw bonsai::Error("cannot open '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw bonsai::Error("cannot read '" + path + "'");
    return ss.str();
}

// A piece made safe for one line of terminal output.
std::string escape_piece(const std::string& s) {
    std::string out;
    char buf[16];
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b == '\\') {
            out += "\\\\";
        } else if (b == '\n') {
            out += "\\n";
        } else if (b == '\r') {
            out += "\\r";
        } else if (b == '\t') {
            out += "\\t";
        } else if (b < 0x20 || b == 0x7F) {
            std::snprintf(buf, sizeof buf, "\\x%02X", b);
            out += buf;
        } else if (b < 0x80) {
            out += static_cast<char>(b);
        } else {
            // Copy a complete, valid multi-byte character; escape anything else byte by byte.
            size_t len = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 0;
            bool ok = len > 0 && i + len <= s.size();
            for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
            if (ok && len > 2) {
                const auto b1 = static_cast<unsigned char>(s[i + 1]);
                ok = !(b == 0xE0 && b1 < 0xA0) && !(b == 0xED && b1 > 0x9F) && !(b == 0xF0 && b1 < 0x90) &&
                     !(b == 0xF4 && b1 > 0x8F);
            }
            if (!ok) {
                std::snprintf(buf, sizeof buf, "\\x%02X", b);
                out += buf;
                ++i;
                continue;
            }
            if (len == 2 && b == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
                // U+0080..U+009F: C1 control characters.
                std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned char>(s[i + 1]));
                out += buf;
            } else {
                out.append(s, i, len);
            }
            i += len;
            continue;
        }
        ++i;
    }
    return out;
}

int run_tokenize(bonsai::cli::Args& args) {
    const bool ids_only = args.flag({"--ids"});
    const bool special = args.flag({"--special"});
    const auto file = args.value({"--file", "-f"});
    const auto pos = args.positionals();
    if (pos.empty()) throw UsageError("expected MODEL");
    std::string text;
    if (file) {
        if (pos.size() != 1) throw UsageError("give either --file F or TEXT, not both");
        text = read_bytes(*file);
    } else {
        if (pos.size() != 2) throw UsageError("expected MODEL and one TEXT argument (or --file F)");
        text = pos[1];
    }
    const auto gguf = bonsai::gguf::GgufFile::open(pos[0]);
    const auto tok = bonsai::Tokenizer::from_gguf(*gguf);
    const std::vector<int32_t> ids = tok->encode(text, special, special);
    std::string out;
    if (ids_only) {
        for (size_t i = 0; i < ids.size(); ++i) {
            if (i) out += ' ';
            out += std::to_string(ids[i]);
        }
        out += '\n';
    } else {
        for (int32_t id : ids) {
            out += std::to_string(id);
            out += '\t';
            out += escape_piece(tok->token_piece(id));
            out += '\n';
        }
    }
    std::cout << out << std::flush;
    if (!std::cout) throw bonsai::Error("cannot write the output");
    return 0;
}

const bonsai::cli::Registration reg{
    "tokenize", "MODEL [--ids] [--special] (--file F | TEXT)  show the token ids of a text", run_tokenize};

}  // namespace
