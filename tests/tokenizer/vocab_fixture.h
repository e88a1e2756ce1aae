#pragma once
// Readers for llama.cpp's tokenizer test files (fixtures/README.md "vocab/"):
//   .inp  texts, each followed by "\n__ggml_vocab_test__\n"
//   .out  one line per text: " id id id" (empty line = no ids)
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bonsai::test {

inline std::string read_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::vector<std::string> read_inp(const std::string& path) {
    const std::string data = read_file_bytes(path);
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    size_t pos = 0;
    while (pos < data.size()) {
        const size_t at = data.find(sep, pos);
        if (at == std::string::npos) break;
        texts.push_back(data.substr(pos, at - pos));
        pos = at + sep.size();
    }
    return texts;
}

inline std::vector<std::vector<int32_t>> read_out(const std::string& path) {
    const std::string data = read_file_bytes(path);
    std::vector<std::vector<int32_t>> lines;
    size_t pos = 0;
    while (pos < data.size()) {
        size_t nl = data.find('\n', pos);
        if (nl == std::string::npos) nl = data.size();
        std::istringstream ls(data.substr(pos, nl - pos));
        std::vector<int32_t> ids;
        long long v;
        while (ls >> v) ids.push_back(static_cast<int32_t>(v));
        lines.push_back(ids);
        pos = nl + 1;
    }
    return lines;
}

}  // namespace bonsai::test
