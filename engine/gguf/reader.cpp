// GGUF v2/v3 reader over a read-only memory map (formats.md §1, bonsai-formats.md §0-§3).
//
// The whole container is validated before anything sized by the file is allocated: every count is
// checked against the bytes left in the file, and every allocation is charged to a budget of
// "file size + a small constant", so a hostile file cannot make us allocate more than it weighs.
// Metadata arrays stay in the mapping; string arrays only get a vector of element offsets
// (8 bytes per element, and every element costs at least 8 bytes of file).
//
// Tensor type ids are disambiguated here (formats.md §2.1): ids 36-40 depend on who wrote the file
// (general.architecture), and id 42 is either the official group-64 Q2_0 or PrismML's legacy
// group-128 layout, told apart by which interpretation makes the tensor offsets consistent.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>

#include "bonsai/gguf.h"

namespace bonsai::gguf {

namespace {

constexpr uint64_t kMaxStringLength = 1ull << 30;    // GGUF_MAX_STRING_LENGTH
constexpr uint64_t kMaxArrayElements = 1ull << 30;   // GGUF_MAX_ARRAY_ELEMENTS
constexpr uint64_t kMaxKeyLength = 65535;            // spec limit on key length
constexpr uint64_t kMaxTensorName = 63;              // ggml: GGML_MAX_NAME (64) incl. the NUL
constexpr uint64_t kMinAlignment = 8, kMaxAlignment = 1ull << 20;
constexpr uint64_t kMinKvRecord = 8 + 1 + 4 + 1;     // key length + 1-byte key + type + 1-byte value
constexpr uint64_t kMinTensorRecord = 8 + 1 + 4 + 4 + 8;  // name length + name + n_dims + type + offset
constexpr uint64_t kAllocSlack = 48 * 1024;          // allocation budget beyond the file size
constexpr size_t kSsoCapacity = 15;                  // std::string keeps up to this many chars inline

// Size in bytes of a scalar value type (0 for STRING / ARRAY).
uint64_t scalar_size(ValueType t) {
    switch (t) {
        case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
        case ValueType::U16: case ValueType::I16: return 2;
        case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
        case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
        default: return 0;
    }
}

bool is_integer(ValueType t) {
    switch (t) {
        case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
        case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64: return true;
        default: return false;
    }
}

template <typename T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

// Reads a scalar of type t at p into the integer / float views. BOOL: any non-zero byte is true (ggml).
void decode_scalar(ValueType t, const uint8_t* p, int64_t& i, uint64_t& u, double& f) {
    switch (t) {
        case ValueType::U8: u = load<uint8_t>(p); i = static_cast<int64_t>(u); break;
        case ValueType::I8: i = load<int8_t>(p); u = static_cast<uint64_t>(i); break;
        case ValueType::U16: u = load<uint16_t>(p); i = static_cast<int64_t>(u); break;
        case ValueType::I16: i = load<int16_t>(p); u = static_cast<uint64_t>(i); break;
        case ValueType::U32: u = load<uint32_t>(p); i = static_cast<int64_t>(u); break;
        case ValueType::I32: i = load<int32_t>(p); u = static_cast<uint64_t>(i); break;
        case ValueType::U64: u = load<uint64_t>(p); i = static_cast<int64_t>(u); break;
        case ValueType::I64: i = load<int64_t>(p); u = static_cast<uint64_t>(i); break;
        case ValueType::BOOL: u = load<uint8_t>(p) != 0 ? 1 : 0; i = static_cast<int64_t>(u); break;
        case ValueType::F32: f = load<float>(p); return;
        case ValueType::F64: f = load<double>(p); return;
        default: return;
    }
    f = (t == ValueType::U64) ? static_cast<double>(u) : static_cast<double>(i);
}

const char* ggml_type_name(uint32_t id) {
    static const char* const names[] = {
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
        "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
        "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
        "BF16", "Q4_0_4_4 (removed)", "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)", "TQ1_0", "TQ2_0"};
    return id < sizeof(names) / sizeof(names[0]) ? names[id] : nullptr;
}

bool is_bitnet_fork_arch(std::string_view arch) { return arch.substr(0, 6) == "bitnet"; }

std::string basename_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

const char* value_type_name(ValueType t) {
    static const char* const names[] = {"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
                                        "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"};
    const auto i = static_cast<uint32_t>(t);
    return i < 13 ? names[i] : "INVALID";
}

// ---------------------------------------------------------------------------------------------------
// ArrayView

namespace {
void check_index(uint64_t i, uint64_t n) {
    if (i >= n) throw Error("metadata array index " + std::to_string(i) + " out of range (size " + std::to_string(n) + ")");
}
}  // namespace

int64_t ArrayView::int_at(uint64_t i) const {
    check_index(i, count_);
    if (!is_integer(elem_type_) && elem_type_ != ValueType::BOOL) {
        throw Error(std::string("metadata array of ") + value_type_name(elem_type_) + " read as integers");
    }
    int64_t iv = 0;
    uint64_t uv = 0;
    double fv = 0;
    decode_scalar(elem_type_, data_ + i * scalar_size(elem_type_), iv, uv, fv);
    if (elem_type_ == ValueType::U64 && uv > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw Error("metadata array element " + std::to_string(i) + " does not fit a signed 64-bit integer");
    }
    return iv;
}

double ArrayView::float_at(uint64_t i) const {
    check_index(i, count_);
    if (elem_type_ == ValueType::STRING || elem_type_ == ValueType::ARRAY) {
        throw Error(std::string("metadata array of ") + value_type_name(elem_type_) + " read as numbers");
    }
    int64_t iv = 0;
    uint64_t uv = 0;
    double fv = 0;
    decode_scalar(elem_type_, data_ + i * scalar_size(elem_type_), iv, uv, fv);
    return fv;
}

std::string_view ArrayView::string_at(uint64_t i) const {
    check_index(i, count_);
    if (elem_type_ != ValueType::STRING || !string_offsets_) {
        throw Error(std::string("metadata array of ") + value_type_name(elem_type_) + " read as strings");
    }
    const uint8_t* p = data_ + (*string_offsets_)[i];
    const uint64_t len = load<uint64_t>(p);  // validated by the reader
    return std::string_view(reinterpret_cast<const char*>(p + 8), len);
}

// ---------------------------------------------------------------------------------------------------
// Parser

struct Parser {
    GgufFile& f;
    const uint8_t* p;
    uint64_t size;
    uint64_t pos = 0;
    uint64_t budget;  // bytes we may still allocate

    Parser(GgufFile& file, const uint8_t* data, uint64_t n) : f(file), p(data), size(n), budget(n + kAllocSlack) {}

    [[noreturn]] void fail(const std::string& field, uint64_t at, const std::string& msg) const {
        throw Error(f.path_ + ": " + field + " at byte " + std::to_string(at) + ": " + msg);
    }
    uint64_t left() const { return size - pos; }
    void need(uint64_t n, const std::string& field) const {
        if (left() < n) {
            fail(field, pos, "unexpected end of file (needs " + std::to_string(n) + " bytes, " + std::to_string(left()) +
                                 " left; the file is truncated or a length field is wrong)");
        }
    }
    template <typename T>
    T read(const std::string& field) {
        need(sizeof(T), field);
        T v = load<T>(p + pos);
        pos += sizeof(T);
        return v;
    }
    void charge(uint64_t bytes, const std::string& field) {
        if (bytes > budget) {
            fail(field, pos, "the file's metadata would need more memory than the file's own size allows "
                             "(too many tiny records); refusing it");
        }
        budget -= bytes;
    }
    void charge_string(size_t len, const std::string& field) {
        if (len > kSsoCapacity) charge(len + 1, field);
    }
    // A GGUF string (u64 length + bytes), as a view into the data.
    std::string_view read_string(const std::string& field, uint64_t max_len) {
        const uint64_t at = pos;
        const uint64_t len = read<uint64_t>(field + " length");
        if (len > max_len) fail(field, at, "string length " + std::to_string(len) + " exceeds the limit of " + std::to_string(max_len));
        if (len > left()) {
            fail(field, at, "string length " + std::to_string(len) + " runs past the end of the file (" + std::to_string(left()) +
                                " bytes left)");
        }
        std::string_view s(reinterpret_cast<const char*>(p + pos), len);
        pos += len;
        return s;
    }
    ValueType read_type(const std::string& field, bool in_array) {
        const uint64_t at = pos;
        const uint32_t t = read<uint32_t>(field);
        if (t > 12) fail(field, at, "invalid value type id " + std::to_string(t) + " (valid: 0..12)");
        if (in_array && t == static_cast<uint32_t>(ValueType::ARRAY)) {
            fail(field, at, "nested arrays (array of ARRAY) are not supported");
        }
        return static_cast<ValueType>(t);
    }

    void parse_header() {
        if (size < 24) {
            fail("header", 0, "file is only " + std::to_string(size) + " bytes; a GGUF header needs 24");
        }
        if (std::memcmp(p, "GGUF", 4) != 0) fail("magic", 0, "bad magic (not a GGUF file)");
        pos = 4;
        const uint32_t version = read<uint32_t>("version");
        if (version != 0 && (version & 0xffffu) == 0) {
            fail("version", 4, "looks like a big-endian GGUF (byte-swapped version); only little-endian files are supported");
        }
        if (version == 1) fail("version", 4, "GGUF version 1 is no longer supported (re-convert the model)");
        if (version != 2 && version != 3) {
            fail("version", 4, "unsupported GGUF version " + std::to_string(version) + " (supported: 2 and 3)");
        }
        f.version_ = version;
    }

    void parse_kvs(uint64_t n_kv) {
        if (n_kv > left() / kMinKvRecord) {
            fail("metadata_kv_count", 16, "count " + std::to_string(n_kv) + " is more than the remaining " + std::to_string(left()) +
                                              " bytes could hold");
        }
        charge(n_kv * sizeof(KeyValue) + n_kv * sizeof(uint32_t), "metadata_kv_count");
        f.kvs_.reserve(n_kv);
        for (uint64_t k = 0; k < n_kv; ++k) {
            const uint64_t rec = pos;
            const std::string field = "metadata entry " + std::to_string(k);
            const std::string_view key = read_string(field + " key", kMaxKeyLength);
            if (key.empty()) fail(field, rec, "empty key");
            charge_string(key.size(), field);
            KeyValue kv;
            kv.key.assign(key);
            kv.file_offset = rec;
            const std::string kfield = "metadata key '" + kv.key + "'";
            kv.type = read_type(kfield + " type", false);
            parse_value(kv, kfield);
            f.kvs_.push_back(std::move(kv));
        }
        // Sorted index: O(log n) lookups and the duplicate-key check, without any node allocation.
        auto& idx = f.kv_index_;
        idx.resize(f.kvs_.size());
        for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return f.kvs_[a].key < f.kvs_[b].key; });
        for (size_t i = 1; i < idx.size(); ++i) {
            const KeyValue& a = f.kvs_[idx[i - 1]];
            const KeyValue& b = f.kvs_[idx[i]];
            if (a.key == b.key) {
                fail("metadata key '" + b.key + "'", b.file_offset, "duplicate key (first defined at byte " + std::to_string(a.file_offset) + ")");
            }
        }
    }

    void parse_value(KeyValue& kv, const std::string& field) {
        if (kv.type == ValueType::STRING) {
            kv.str = read_string(field + " value", kMaxStringLength);
            return;
        }
        if (kv.type != ValueType::ARRAY) {
            const uint64_t n = scalar_size(kv.type);
            need(n, field + " value");
            decode_scalar(kv.type, p + pos, kv.i, kv.u, kv.f);
            pos += n;
            return;
        }
        const ValueType elem = read_type(field + " array element type", true);
        const uint64_t at = pos;
        const uint64_t count = read<uint64_t>(field + " array count");
        if (count > kMaxArrayElements) {
            fail(field, at, "array count " + std::to_string(count) + " exceeds the limit of " + std::to_string(kMaxArrayElements));
        }
        const uint8_t* data = p + pos;
        if (elem != ValueType::STRING) {
            const uint64_t bytes = count * scalar_size(elem);  // <= 2^33: no overflow
            if (bytes > left()) {
                fail(field, at, "array of " + std::to_string(count) + " " + value_type_name(elem) + " runs past the end of the file (" +
                                    std::to_string(left()) + " bytes left)");
            }
            pos += bytes;
            kv.arr = ArrayView(elem, count, data, nullptr);
            return;
        }
        if (count > left() / 8) {
            fail(field, at, "array of " + std::to_string(count) + " strings cannot fit in the " + std::to_string(left()) +
                                " bytes left in the file");
        }
        // vector storage + shared_ptr control block (allocate_shared puts both in one allocation).
        charge(count * sizeof(uint64_t) + 64, field);
        auto offsets = std::make_shared<std::vector<uint64_t>>();
        offsets->reserve(count);
        for (uint64_t i = 0; i < count; ++i) {
            offsets->push_back(pos - static_cast<uint64_t>(data - p));
            read_string(field + " element " + std::to_string(i), kMaxStringLength);
        }
        kv.arr = ArrayView(elem, count, data, std::move(offsets));
    }

    void read_alignment() {
        const KeyValue* a = f.find("general.alignment");
        if (!a) return;
        const std::string field = "metadata key 'general.alignment'";
        if (a->type != ValueType::U32) {
            fail(field, a->file_offset, std::string("must be of type UINT32, found ") + value_type_name(a->type));
        }
        const uint64_t v = a->u;
        if (v == 0 || (v & (v - 1)) != 0) fail(field, a->file_offset, "alignment " + std::to_string(v) + " is not a power of two");
        if (v < kMinAlignment || v > kMaxAlignment) {
            fail(field, a->file_offset, "alignment " + std::to_string(v) + " is outside the supported range " +
                                            std::to_string(kMinAlignment) + ".." + std::to_string(kMaxAlignment));
        }
        f.alignment_ = v;
    }

    void parse_tensor_infos(uint64_t n_t) {
        const uint64_t count_at = 8;
        if (n_t > left() / kMinTensorRecord) {
            fail("tensor_count", count_at, "count " + std::to_string(n_t) + " is more than the remaining " + std::to_string(left()) +
                                               " bytes could hold");
        }
        charge(n_t * sizeof(TensorInfo) + n_t * sizeof(uint32_t), "tensor_count");
        f.tensors_.reserve(n_t);
        for (uint64_t k = 0; k < n_t; ++k) {
            const uint64_t rec = pos;
            const std::string field = "tensor info " + std::to_string(k);
            const std::string_view name = read_string(field + " name", std::numeric_limits<uint64_t>::max());
            if (name.empty()) fail(field, rec, "empty tensor name");
            if (name.size() > kMaxTensorName) {
                fail(field, rec, "tensor name of " + std::to_string(name.size()) + " bytes is longer than " + std::to_string(kMaxTensorName));
            }
            charge_string(name.size(), field);
            TensorInfo t;
            t.name.assign(name);
            t.info_file_offset = rec;
            const std::string tfield = "tensor '" + t.name + "'";
            const uint64_t dims_at = pos;
            t.n_dims = read<uint32_t>(tfield + " n_dims");
            if (t.n_dims > 4) fail(tfield, dims_at, "n_dims " + std::to_string(t.n_dims) + " is more than 4");
            for (uint32_t d = 0; d < t.n_dims; ++d) {
                const uint64_t ne_at = pos;
                const uint64_t ne = read<uint64_t>(tfield + " ne[" + std::to_string(d) + "]");
                if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                    fail(tfield, ne_at, "dimension ne[" + std::to_string(d) + "] = " + std::to_string(ne) + " is negative or too large");
                }
                t.ne[d] = static_cast<int64_t>(ne);
            }
            t.type_id = read<uint32_t>(tfield + " type");
            t.offset = read<uint64_t>(tfield + " offset");
            f.tensors_.push_back(std::move(t));
        }
        auto& idx = f.tensor_index_;
        idx.resize(f.tensors_.size());
        for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return f.tensors_[a].name < f.tensors_[b].name; });
        for (size_t i = 1; i < idx.size(); ++i) {
            const TensorInfo& a = f.tensors_[idx[i - 1]];
            const TensorInfo& b = f.tensors_[idx[i]];
            if (a.name == b.name) {
                fail("tensor '" + b.name + "'", b.info_file_offset,
                     "duplicate tensor name (first defined at byte " + std::to_string(a.info_file_offset) + ")");
            }
        }
    }

    // Maps a file type id to our type. `q2_legacy` selects the group-128 reading of id 42.
    TensorType resolve_type(const TensorInfo& t, std::string_view arch, bool q2_legacy) const {
        const std::string field = "tensor '" + t.name + "' type";
        const uint64_t at = t.info_file_offset;
        const uint32_t id = t.type_id;
        switch (id) {
            case 0: return TensorType::F32;
            case 1: return TensorType::F16;
            case 2: return TensorType::Q4_0;
            case 8: return TensorType::Q8_0;
            case 12: return TensorType::Q4_K;
            case 14: return TensorType::Q6_K;
            case 30: return TensorType::BF16;
            case 34: return TensorType::TQ1_0;
            case 35: return TensorType::TQ2_0;
            case 41: return TensorType::Q1_0;
            case 42: return q2_legacy ? TensorType::PQ2_0 : TensorType::Q2_0;
            case 142: return TensorType::PQ2_0;
            case 143: return TensorType::PTQ1_0;
            default: break;
        }
        const bool bitnet = is_bitnet_fork_arch(arch);
        if (id == 36) {
            if (bitnet) return TensorType::I2_S;
            fail(field, at, "type id 36 is I2_S only in files from microsoft/BitNet's fork (architecture 'bitnet-b1.58'); "
                            "upstream ggml removed id 36, and this file's architecture is '" + std::string(arch) + "'");
        }
        if (id == 37) fail(field, at, "type id 37 (I8_S in BitNet's fork; removed upstream) is not a stored weight format");
        if ((id == 38 || id == 39) && bitnet) {
            fail(field, at, std::string("type id ") + std::to_string(id) + " is BitNet's " + (id == 38 ? "TL1" : "TL2") +
                                " lookup-table layout, which Bonsai does not support; use the I2_S GGUF of this model");
        }
        if (id == 38) fail(field, at, "type id 38 was removed from ggml (IQ4_NL_8_8) and is not supported");
        if (id == 39) fail(field, at, "type MXFP4 (id 39) is not supported by Bonsai");
        if (id == 40) {
            fail(field, at, "type NVFP4 (id 40) is not supported by Bonsai (early PrismML builds also used id 40 for a "
                            "group-32 Q1_0 that no published Bonsai file uses)");
        }
        if (const char* n = ggml_type_name(id)) {
            fail(field, at, std::string("type ") + n + " (id " + std::to_string(id) + ") is not supported by Bonsai");
        }
        fail(field, at, "unknown tensor type id " + std::to_string(id));
    }

    // Computes every tensor's size under one interpretation of id 42 and checks ggml's layout rule:
    // tensor i starts at the sum of the aligned sizes of tensors 0..i-1, and all data lies inside the file.
    // Returns an empty string when consistent, else the error (not thrown, so the caller can retry).
    // `exact_end` tells whether the padded data ends exactly at the end of the file (as ggml and gguf-py write it).
    std::string check_layout(std::string_view arch, bool q2_legacy, bool& exact_end) {
        exact_end = false;
        const uint64_t A = f.alignment_;
        uint64_t expected = 0;
        const TensorInfo* prev = nullptr;
        for (TensorInfo& t : f.tensors_) {
            const std::string field = f.path_ + ": tensor '" + t.name + "' at byte " + std::to_string(t.info_file_offset) + ": ";
            t.type = resolve_type(t, arch, q2_legacy);
            uint64_t nbytes = 0;
            try {
                nbytes = tensor_nbytes(t.type, t.ne);
            } catch (const Error& e) {
                return field + e.what();
            }
            if (t.offset % A != 0) {
                return field + "offset " + std::to_string(t.offset) + " is not a multiple of the alignment " + std::to_string(A);
            }
            if (t.offset != expected) {
                if (prev && t.offset < expected) {
                    return field + "offset " + std::to_string(t.offset) + " overlaps tensor '" + prev->name +
                           "' (whose data runs to data-section byte " + std::to_string(prev->offset + prev->nbytes) +
                           "); offset should be " + std::to_string(expected);
                }
                return field + "offset " + std::to_string(t.offset) + " is not the expected " + std::to_string(expected);
            }
            if (f.data_offset_ > size || t.offset > size - f.data_offset_ || nbytes > size - f.data_offset_ - t.offset) {
                return field + std::string(tensor_type_name(t.type)) + " data of " + std::to_string(nbytes) + " bytes at file byte " +
                       std::to_string(f.data_offset_ + t.offset) + " runs past the end of the file (" + std::to_string(size) + " bytes)";
            }
            t.nbytes = nbytes;
            t.data = p + f.data_offset_ + t.offset;
            const uint64_t padded = nbytes + (A - nbytes % A) % A;  // nbytes <= size: no overflow
            expected += padded;
            prev = &t;
        }
        exact_end = f.data_offset_ + expected == size;
        return {};
    }

    void resolve_layout() {
        std::string arch;
        if (const KeyValue* a = f.find("general.architecture"); a && a->type == ValueType::STRING) arch = std::string(a->str);
        bool exact64 = false, exact128 = false;
        const std::string err = check_layout(arch, false, exact64);
        const bool has_id42 = std::any_of(f.tensors_.begin(), f.tensors_.end(), [](const TensorInfo& t) { return t.type_id == 42; });
        if (!has_id42) {
            if (err.empty()) return;
            throw Error(err);
        }
        // Type id 42: official group-64 Q2_0 unless only the legacy group-128 reading fits the offsets
        // (and, for the last tensor, the end of the file). Ties go to the official format.
        if (err.empty() && exact64) return;
        const bool legacy_fits = check_layout(arch, true, exact128).empty();
        if (legacy_fits && (exact128 || !err.empty())) {
            std::string base = basename_of(f.path_);
            std::string suggestion = "the PQ2_0 version of this model (a file named like '*-PQ2_0.gguf') or its official "
                                     "group-64 Q2_0 file ('*-Q2_0_g64.gguf')";
            const std::string suffix = "-Q2_0.gguf";
            if (base.size() > suffix.size() && base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0) {
                const std::string stem = base.substr(0, base.size() - suffix.size());
                suggestion = "'" + stem + "-PQ2_0.gguf' (or the official group-64 file '" + stem + "-Q2_0_g64.gguf')";
            }
            throw Error(f.path_ + ": this file matches the legacy PrismML Q2_0 layout (group size 128 stored as type id 42), "
                                  "but Bonsai reads type id 42 as the official group-64 Q2_0 format. Download " + suggestion +
                        " instead.");
        }
        if (err.empty()) {
            check_layout(arch, false, exact64);  // neither reading ends exactly at EOF: keep the official one
            return;
        }
        throw Error(err);
    }

    void parse() {
        parse_header();
        const uint64_t n_t = read<uint64_t>("tensor_count");
        const uint64_t n_kv = read<uint64_t>("metadata_kv_count");
        parse_kvs(n_kv);
        read_alignment();
        parse_tensor_infos(n_t);
        const uint64_t A = f.alignment_;
        const uint64_t aligned = pos + (A - pos % A) % A;
        f.data_offset_ = f.tensors_.empty() ? std::min(aligned, size) : aligned;
        if (!f.tensors_.empty()) resolve_layout();
    }
};

// ---------------------------------------------------------------------------------------------------
// GgufFile

GgufFile::~GgufFile() {
    if (mapping_) munmap(mapping_, static_cast<size_t>(size_));
}

std::unique_ptr<GgufFile> GgufFile::from_memory(const uint8_t* data, size_t size, const std::string& name) {
    std::unique_ptr<GgufFile> f(new GgufFile());
    f->path_ = name;
    f->base_ = data;
    f->size_ = size;
    Parser(*f, data, size).parse();
    return f;
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot open '" + path + "': " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        throw Error("cannot stat '" + path + "': " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error("'" + path + "' is not a regular file");
    }
    std::unique_ptr<GgufFile> f(new GgufFile());
    f->path_ = path;
    f->size_ = static_cast<uint64_t>(st.st_size);
    if (f->size_ == 0) {
        ::close(fd);
        throw Error(path + ": file is empty (not a GGUF file)");
    }
    void* m = mmap(nullptr, static_cast<size_t>(f->size_), PROT_READ, MAP_PRIVATE, fd, 0);
    const int e = errno;
    ::close(fd);
    if (m == MAP_FAILED) throw Error("cannot map '" + path + "': " + std::strerror(e));
    f->mapping_ = m;
    f->base_ = static_cast<const uint8_t*>(m);
    Parser(*f, f->base_, f->size_).parse();
    return f;
}

const KeyValue* GgufFile::find(std::string_view key) const {
    auto it = std::lower_bound(kv_index_.begin(), kv_index_.end(), key,
                               [&](uint32_t i, std::string_view k) { return std::string_view(kvs_[i].key) < k; });
    if (it == kv_index_.end() || kvs_[*it].key != key) return nullptr;
    return &kvs_[*it];
}

const TensorInfo* GgufFile::tensor(std::string_view name) const {
    auto it = std::lower_bound(tensor_index_.begin(), tensor_index_.end(), name,
                               [&](uint32_t i, std::string_view k) { return std::string_view(tensors_[i].name) < k; });
    if (it == tensor_index_.end() || tensors_[*it].name != name) return nullptr;
    return &tensors_[*it];
}

namespace {
[[noreturn]] void wrong_type(const GgufFile& f, const KeyValue& kv, const char* expected) {
    throw Error(f.path() + ": metadata key '" + kv.key + "' (byte " + std::to_string(kv.file_offset) + ") has type " +
                value_type_name(kv.type) + ", expected " + expected);
}
}  // namespace

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (!kv) return std::nullopt;
    if (!is_integer(kv->type)) wrong_type(*this, *kv, "an integer");
    if (kv->type == ValueType::U64 && kv->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw Error(path_ + ": metadata key '" + kv->key + "' value " + std::to_string(kv->u) + " is too large");
    }
    return kv->i;
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (!kv) return std::nullopt;
    if (kv->type != ValueType::F32 && kv->type != ValueType::F64 && !is_integer(kv->type)) wrong_type(*this, *kv, "a number");
    return kv->f;
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (!kv) return std::nullopt;
    if (kv->type == ValueType::BOOL) return kv->u != 0;
    if (is_integer(kv->type) && (kv->u == 0 || kv->u == 1)) return kv->u != 0;
    wrong_type(*this, *kv, "BOOL");
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (!kv) return std::nullopt;
    if (kv->type != ValueType::STRING) wrong_type(*this, *kv, "STRING");
    return std::string(kv->str);
}

const ArrayView* GgufFile::get_array(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (!kv) return nullptr;
    if (kv->type != ValueType::ARRAY) wrong_type(*this, *kv, "ARRAY");
    return &kv->arr;
}

std::string GgufFile::architecture() const {
    auto a = get_string("general.architecture");
    if (!a) throw Error(path_ + ": missing required metadata key 'general.architecture'");
    return *a;
}

}  // namespace bonsai::gguf
