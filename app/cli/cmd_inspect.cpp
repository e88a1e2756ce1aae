// bonsai-cli inspect MODEL [--json]: a GGUF file's metadata and tensor table, as text or JSON.
// Long arrays show their first elements and the total; long strings (chat templates) are cut in the
// text view. A file the reader refuses exits 1 with the reader's message.
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "bonsai/gguf.h"
#include "command.h"

namespace {

using bonsai::gguf::ArrayView;
using bonsai::gguf::GgufFile;
using bonsai::gguf::KeyValue;
using bonsai::gguf::ValueType;

constexpr uint64_t kArrayHead = 8;      // array elements shown before "... (N total)"
constexpr size_t kTextStringMax = 120;  // bytes of a string value shown in the text view

// Quoted, with control characters escaped, cut after `max` bytes.
std::string quote(std::string_view s, size_t max) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size() && i < max; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '"' || c == '\\') { out += '\\'; out += static_cast<char>(c); }
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else out += static_cast<char>(c);
    }
    out += "\"";
    if (s.size() > max) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
}

std::string number(double v) {
    std::ostringstream o;
    o.precision(9);
    o << v;
    return o.str();
}

std::string scalar_text(const KeyValue& kv) {
    switch (kv.type) {
        case ValueType::F32: case ValueType::F64: return number(kv.f);
        case ValueType::BOOL: return kv.u ? "true" : "false";
        case ValueType::U64: return std::to_string(kv.u);
        case ValueType::STRING: return quote(kv.str, kTextStringMax);
        default: return std::to_string(kv.i);
    }
}

std::string element_text(const ArrayView& a, uint64_t i) {
    switch (a.elem_type()) {
        case ValueType::STRING: return quote(a.string_at(i), 40);
        case ValueType::F32: case ValueType::F64: return number(a.float_at(i));
        case ValueType::BOOL: return a.int_at(i) ? "true" : "false";
        case ValueType::U64: return number(a.float_at(i));
        default: return std::to_string(a.int_at(i));
    }
}

std::string array_text(const ArrayView& a) {
    std::string out = std::string("[") + bonsai::gguf::value_type_name(a.elem_type()) + " x " + std::to_string(a.size()) + "] [";
    for (uint64_t i = 0; i < a.size() && i < kArrayHead; ++i) out += (i ? ", " : "") + element_text(a, i);
    out += "]";
    if (a.size() > kArrayHead) out += " ... (" + std::to_string(a.size()) + " total)";
    return out;
}

std::string shape_text(const bonsai::gguf::TensorInfo& t) {
    std::string s = "[";
    for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
    return s + "]";
}

nlohmann::json scalar_json(const KeyValue& kv) {
    switch (kv.type) {
        case ValueType::F32: case ValueType::F64: return kv.f;
        case ValueType::BOOL: return kv.u != 0;
        case ValueType::U64: return kv.u;
        case ValueType::STRING: return std::string(kv.str);
        default: return kv.i;
    }
}

nlohmann::json element_json(const ArrayView& a, uint64_t i) {
    switch (a.elem_type()) {
        case ValueType::STRING: return std::string(a.string_at(i));
        case ValueType::F32: case ValueType::F64: case ValueType::U64: return a.float_at(i);
        case ValueType::BOOL: return a.int_at(i) != 0;
        default: return a.int_at(i);
    }
}

int run_inspect(bonsai::cli::Args& args) {
    const bool json = args.flag({"--json"});
    const auto pos = args.positionals();
    if (pos.size() != 1) throw bonsai::cli::UsageError("expected exactly one MODEL path");
    const auto f = GgufFile::open(pos[0]);

    uint64_t total_bytes = 0, total_params = 0;
    for (const auto& t : f->tensors()) {
        total_bytes += t.nbytes;
        total_params += static_cast<uint64_t>(t.n_elements());
    }

    if (json) {
        nlohmann::json j;
        j["path"] = f->path();
        j["version"] = f->version();
        j["alignment"] = f->alignment();
        j["data_offset"] = f->data_offset();
        j["file_size"] = f->file_size();
        nlohmann::json meta = nlohmann::json::object();
        for (const auto& kv : f->metadata()) {
            nlohmann::json v;
            v["type"] = bonsai::gguf::value_type_name(kv.type);
            if (kv.type == ValueType::ARRAY) {
                v["elem_type"] = bonsai::gguf::value_type_name(kv.arr.elem_type());
                v["count"] = kv.arr.size();
                nlohmann::json head = nlohmann::json::array();
                for (uint64_t i = 0; i < kv.arr.size() && i < kArrayHead; ++i) head.push_back(element_json(kv.arr, i));
                v["head"] = head;
            } else {
                v["value"] = scalar_json(kv);
            }
            meta[kv.key] = v;
        }
        j["metadata"] = meta;
        nlohmann::json tensors = nlohmann::json::array();
        for (const auto& t : f->tensors()) {
            tensors.push_back({{"name", t.name},
                               {"type", bonsai::tensor_type_name(t.type)},
                               {"type_id", t.type_id},
                               {"shape", std::vector<int64_t>(t.ne, t.ne + t.n_dims)},
                               {"offset", t.offset},
                               {"bytes", t.nbytes},
                               {"params", t.n_elements()}});
        }
        j["tensors"] = tensors;
        j["totals"] = {{"tensors", f->tensors().size()}, {"bytes", total_bytes}, {"params", total_params}};
        // Metadata strings are untrusted bytes: replace invalid UTF-8 instead of failing.
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }

    std::cout << "file: " << f->path() << "\n"
              << "GGUF version " << f->version() << ", alignment " << f->alignment() << ", data at byte " << f->data_offset()
              << ", file size " << f->file_size() << " bytes\n\n"
              << "metadata (" << f->metadata().size() << " keys):\n";
    for (const auto& kv : f->metadata()) {
        std::cout << "  " << kv.key << " [" << bonsai::gguf::value_type_name(kv.type) << "] = "
                  << (kv.type == ValueType::ARRAY ? array_text(kv.arr) : scalar_text(kv)) << "\n";
    }
    size_t name_w = 4;
    for (const auto& t : f->tensors()) name_w = std::max(name_w, t.name.size());
    std::cout << "\ntensors (" << f->tensors().size() << "):\n";
    char line[256];
    std::snprintf(line, sizeof line, "  %-*s  %-7s %-24s %14s\n", static_cast<int>(name_w), "name", "type", "shape", "bytes");
    std::cout << line;
    for (const auto& t : f->tensors()) {
        std::snprintf(line, sizeof line, "  %-*s  %-7s %-24s %14llu\n", static_cast<int>(name_w), t.name.c_str(),
                      bonsai::tensor_type_name(t.type), shape_text(t).c_str(), static_cast<unsigned long long>(t.nbytes));
        std::cout << line;
    }
    std::cout << "\ntotals: " << f->tensors().size() << " tensors, " << total_bytes << " bytes, " << total_params << " params\n";
    return 0;
}

const bonsai::cli::Registration reg{"inspect", "MODEL [--json]  show a GGUF file's metadata and tensors", run_inspect};

}  // namespace
