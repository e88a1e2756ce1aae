#pragma once
// GGUF v2/v3 reader (over a read-only memory map) and writer.
//
// Every file is untrusted: GgufFile::open validates the whole container (formats.md §1.6) before it
// allocates anything sized by the file, and throws bonsai::Error naming the field and its byte offset
// ("tensor 'blk.0.attn_q.weight' at byte 1234: offset 96 is not the expected 64"). Parsing never
// allocates more than the file's size plus a small constant: arrays stay in the mapping and are
// decoded on access.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/error.h"
#include "bonsai/tensor_type.h"

namespace bonsai::gguf {

// GGUF metadata value type ids (formats.md §1.3).
enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* value_type_name(ValueType t);

// A metadata array, viewed in place in the mapping. Element access is bounds-checked (throws).
class ArrayView {
public:
    ValueType elem_type() const { return elem_type_; }
    uint64_t size() const { return count_; }
    // Integer elements (any integer type or BOOL) as int64; floats (F32/F64) as double; strings as views
    // into the mapping (valid while the GgufFile lives). Wrong element type -> bonsai::Error.
    // (float_at also converts integer elements; int_at throws for a U64 value above INT64_MAX.)
    int64_t int_at(uint64_t i) const;
    double float_at(uint64_t i) const;
    std::string_view string_at(uint64_t i) const;

    // Internal: built by the reader.
    ArrayView(ValueType elem, uint64_t count, const uint8_t* data, std::shared_ptr<const std::vector<uint64_t>> string_offsets)
        : elem_type_(elem), count_(count), data_(data), string_offsets_(std::move(string_offsets)) {}
    ArrayView() = default;

private:
    ValueType elem_type_ = ValueType::U8;
    uint64_t count_ = 0;
    const uint8_t* data_ = nullptr;
    std::shared_ptr<const std::vector<uint64_t>> string_offsets_;  // byte offset of each string element from data_
};

// One metadata key/value pair.
struct KeyValue {
    std::string key;
    ValueType type = ValueType::U8;
    uint64_t file_offset = 0;  // where the key's record starts, for error messages
    // Scalar storage (which one is valid depends on `type`):
    int64_t i = 0;            // U8..I32, U64 (as bit pattern cast; use u for U64), I64, BOOL (0/1)
    uint64_t u = 0;           // unsigned integer types and BOOL
    double f = 0;             // F32 / F64
    std::string_view str;     // STRING (view into the mapping)
    ArrayView arr;            // ARRAY
};

// One tensor's description and its bytes inside the mapping.
struct TensorInfo {
    std::string name;
    TensorType type = TensorType::F32;
    uint32_t n_dims = 0;
    int64_t ne[4] = {1, 1, 1, 1};  // element counts, fastest-varying first (ne[0] = row length)
    uint64_t offset = 0;           // relative to the data section
    uint64_t nbytes = 0;           // validated size of the tensor's data
    const uint8_t* data = nullptr; // points into the mapping
    uint64_t info_file_offset = 0; // where the tensor-info record starts in the file
    uint32_t type_id = 0;          // the type id exactly as stored in the file (before disambiguation)

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
public:
    // Maps and validates `path`. Throws bonsai::Error with the path, field and byte offset on any problem.
    static std::unique_ptr<GgufFile> open(const std::string& path);
    // Same, over bytes the caller owns (kept alive by the caller for the object's lifetime). For fuzzing/tests.
    static std::unique_ptr<GgufFile> from_memory(const uint8_t* data, size_t size, const std::string& name = "<memory>");
    ~GgufFile();
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;

    const std::string& path() const { return path_; }
    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // absolute start of the data section
    uint64_t file_size() const { return size_; }
    const std::vector<KeyValue>& metadata() const { return kvs_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }

    // Lookups (nullptr / nullopt when absent). Typed getters accept any integer type whose value fits,
    // F32 or F64 for floats, and throw bonsai::Error naming the key when the type is wrong.
    const KeyValue* find(std::string_view key) const;
    const TensorInfo* tensor(std::string_view name) const;
    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<double> get_float(std::string_view key) const;
    std::optional<bool> get_bool(std::string_view key) const;
    std::optional<std::string> get_string(std::string_view key) const;
    const ArrayView* get_array(std::string_view key) const;
    // "general.architecture", required by every model (throws when absent).
    std::string architecture() const;

    // Base of the mapping (for backends that repack or upload tensors).
    const uint8_t* base() const { return base_; }

private:
    GgufFile() = default;
    friend struct Parser;
    std::string path_;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    uint64_t size_ = 0;
    const uint8_t* base_ = nullptr;
    void* mapping_ = nullptr;  // non-null when we own an mmap
    std::vector<KeyValue> kvs_;
    std::vector<TensorInfo> tensors_;
    std::vector<uint32_t> kv_index_;      // indices into kvs_ sorted by key (lookup + duplicate check)
    std::vector<uint32_t> tensor_index_;  // indices into tensors_ sorted by name
};

// Builds a GGUF v3 file: metadata in insertion order, tensors in insertion order, each padded to the
// alignment. Used by `bonsai-cli synth`, tests and the trainer's exporter.
class GgufWriter {
public:
    explicit GgufWriter(uint32_t alignment = 32);
    void set_u32(const std::string& key, uint32_t v);
    void set_i32(const std::string& key, int32_t v);
    void set_u64(const std::string& key, uint64_t v);
    void set_f32(const std::string& key, float v);
    void set_bool(const std::string& key, bool v);
    void set_string(const std::string& key, const std::string& v);
    void set_array_string(const std::string& key, const std::vector<std::string>& v);
    void set_array_i32(const std::string& key, const std::vector<int32_t>& v);
    void set_array_f32(const std::string& key, const std::vector<float>& v);
    // The remaining scalar and array value types (tests and tools; real models use the ones above).
    void set_u8(const std::string& key, uint8_t v);
    void set_i8(const std::string& key, int8_t v);
    void set_u16(const std::string& key, uint16_t v);
    void set_i16(const std::string& key, int16_t v);
    void set_i64(const std::string& key, int64_t v);
    void set_f64(const std::string& key, double v);
    void set_array_u8(const std::string& key, const std::vector<uint8_t>& v);
    void set_array_i8(const std::string& key, const std::vector<int8_t>& v);
    void set_array_u16(const std::string& key, const std::vector<uint16_t>& v);
    void set_array_i16(const std::string& key, const std::vector<int16_t>& v);
    void set_array_u32(const std::string& key, const std::vector<uint32_t>& v);
    void set_array_u64(const std::string& key, const std::vector<uint64_t>& v);
    void set_array_i64(const std::string& key, const std::vector<int64_t>& v);
    void set_array_f64(const std::string& key, const std::vector<double>& v);
    void set_array_bool(const std::string& key, const std::vector<bool>& v);
    // Setting an existing key again replaces its value in place. "general.alignment" is written
    // automatically (first) when the alignment is not the default 32.
    // `data` must be exactly tensor_nbytes(type, ne) bytes of already-encoded blocks.
    void add_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& ne, std::vector<uint8_t> data);
    // Writes the file (throws bonsai::Error on I/O failure).
    void write(const std::string& path) const;
    std::vector<uint8_t> to_bytes() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace bonsai::gguf
