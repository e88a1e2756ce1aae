#pragma once
// A small valid GGUF built with GgufWriter, and one malformed variant per failure class (made by
// mutating bytes of the valid file). Shared by test_gguf_malformed (error messages) and
// test_gguf_alloc (allocation bound). Field positions are found by searching for the key / tensor name
// bytes, so the corpus does not depend on the writer's exact layout.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bonsai/gguf.h"
#include "bonsai/tensor_type.h"

namespace corpus {

using Bytes = std::vector<uint8_t>;

// alignment 64 so that general.alignment is present as a key we can corrupt.
inline Bytes valid_file() {
    bonsai::gguf::GgufWriter w(64);
    w.set_string("general.architecture", "qwen3");
    w.set_string("general.name", "corpus");
    w.set_u32("test.k1", 7);
    w.set_u32("test.k2", 8);
    w.set_array_string("test.words", {"alpha", "beta", "gamma"});
    w.set_array_i32("test.ints", {1, -2, 3});
    std::vector<uint8_t> a(8 * 2 * 4, 0x11), b(34 * 2, 0x22), c(18, 0x33);
    w.add_tensor("ta", bonsai::TensorType::F32, {8, 2}, a);
    w.add_tensor("tb", bonsai::TensorType::Q8_0, {32, 2}, b);
    w.add_tensor("tc", bonsai::TensorType::Q1_0, {128}, c);
    return w.to_bytes();
}

// Position just after the (u64 length + bytes) string `s` as it appears in the file.
inline size_t after_string(const Bytes& f, const std::string& s) {
    const uint64_t n = s.size();
    Bytes pat(reinterpret_cast<const uint8_t*>(&n), reinterpret_cast<const uint8_t*>(&n) + 8);
    pat.insert(pat.end(), s.begin(), s.end());
    for (size_t i = 0; i + pat.size() <= f.size(); ++i) {
        if (std::memcmp(f.data() + i, pat.data(), pat.size()) == 0) return i + pat.size();
    }
    throw std::runtime_error("corpus: string not found: " + s);
}
inline size_t string_start(const Bytes& f, const std::string& s) { return after_string(f, s) - 8 - s.size(); }

template <typename T>
void poke(Bytes& f, size_t at, T v) {
    std::memcpy(f.data() + at, &v, sizeof(T));
}

// Tensor-info fields of a tensor with `n_dims` dims (all corpus tensors: ta 2, tb 2, tc 1).
inline size_t tensor_ndims_at(const Bytes& f, const std::string& name) { return after_string(f, name); }
inline size_t tensor_ne_at(const Bytes& f, const std::string& name, int d) { return after_string(f, name) + 4 + 8 * d; }
inline size_t tensor_type_at(const Bytes& f, const std::string& name, int n_dims) { return after_string(f, name) + 4 + 8 * n_dims; }
inline size_t tensor_offset_at(const Bytes& f, const std::string& name, int n_dims) { return tensor_type_at(f, name, n_dims) + 4; }

struct Case {
    std::string name;
    Bytes bytes;
    std::string expect;  // substring the error message must contain
};

inline std::vector<Case> malformed_cases() {
    const Bytes base = valid_file();
    std::vector<Case> out;
    auto add = [&](const std::string& name, const std::string& expect, auto&& mutate) {
        Bytes b = base;
        mutate(b);
        out.push_back(Case{name, std::move(b), expect});
    };
    add("tensor_size_overflow", "overflow", [](Bytes& f) { poke<uint64_t>(f, tensor_ne_at(f, "ta", 1), 1ull << 62); });
    add("bad_offset", "is not the expected", [](Bytes& f) { poke<uint64_t>(f, tensor_offset_at(f, "tb", 2), 128); });
    add("misaligned_offset", "not a multiple of the alignment", [](Bytes& f) { poke<uint64_t>(f, tensor_offset_at(f, "tb", 2), 65); });
    add("overlapping_offsets", "overlaps tensor 'ta'", [](Bytes& f) { poke<uint64_t>(f, tensor_offset_at(f, "tb", 2), 0); });
    add("huge_tensor_count", "tensor_count", [](Bytes& f) { poke<uint64_t>(f, 8, 1ull << 40); });
    add("huge_kv_count", "metadata_kv_count", [](Bytes& f) { poke<uint64_t>(f, 16, 1ull << 40); });
    add("string_past_eof", "runs past the end of the file",
        [](Bytes& f) { poke<uint64_t>(f, after_string(f, "general.name") + 4, 1000000); });
    add("alignment_wrong_type", "must be of type UINT32",
        [](Bytes& f) { poke<uint32_t>(f, after_string(f, "general.alignment"), 5 /* INT32 */); });
    add("alignment_not_power_of_two", "not a power of two",
        [](Bytes& f) { poke<uint32_t>(f, after_string(f, "general.alignment") + 4, 48); });
    add("duplicate_key", "duplicate key", [](Bytes& f) { f[after_string(f, "test.k2") - 1] = '1'; });
    add("duplicate_tensor_name", "duplicate tensor name", [](Bytes& f) { f[after_string(f, "tb") - 1] = 'a'; });
    add("unknown_type_id", "unknown tensor type id 200", [](Bytes& f) { poke<uint32_t>(f, tensor_type_at(f, "tb", 2), 200); });
    add("unsupported_type_id", "Q5_K (id 13) is not supported", [](Bytes& f) { poke<uint32_t>(f, tensor_type_at(f, "tb", 2), 13); });
    add("n_dims_over_4", "n_dims 5 is more than 4", [](Bytes& f) { poke<uint32_t>(f, tensor_ndims_at(f, "ta"), 5); });
    add("bad_magic", "bad magic", [](Bytes& f) { f[0] = 'X'; });
    add("version_1", "version 1 is no longer supported", [](Bytes& f) { poke<uint32_t>(f, 4, 1); });
    add("version_4", "unsupported GGUF version 4", [](Bytes& f) { poke<uint32_t>(f, 4, 4); });
    add("big_endian_version", "big-endian", [](Bytes& f) { poke<uint32_t>(f, 4, 0x03000000u); });
    add("nested_array", "nested arrays", [](Bytes& f) { poke<uint32_t>(f, after_string(f, "test.ints") + 4, 9); });
    add("invalid_value_type", "invalid value type id 13", [](Bytes& f) { poke<uint32_t>(f, after_string(f, "test.k1"), 13); });
    add("empty_key", "empty key", [](Bytes& f) {
        // Turn "test.k1" (7 bytes) into an empty key followed by garbage: the reader must stop at the key.
        poke<uint64_t>(f, string_start(f, "test.k1"), 0);
    });
    add("huge_array_count", "array", [](Bytes& f) { poke<uint64_t>(f, after_string(f, "test.words") + 8, 1ull << 29); });
    add("tensor_data_past_eof", "runs past the end of the file", [](Bytes& f) { poke<uint64_t>(f, tensor_ne_at(f, "tc", 0), 128ull * 1000); });
    add("removed_type_id_36", "I2_S", [](Bytes& f) { poke<uint32_t>(f, tensor_type_at(f, "tb", 2), 36); });
    add("row_not_multiple_of_block", "not a multiple of the block size", [](Bytes& f) { poke<uint64_t>(f, tensor_ne_at(f, "tb", 0), 33); });
    add("tensor_name_too_long", "longer than 63", [](Bytes& f) { poke<uint64_t>(f, string_start(f, "tc"), 100); });
    add("truncated_header", "24", [](Bytes& f) { f.resize(20); });
    return out;
}

}  // namespace corpus
