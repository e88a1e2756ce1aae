// GgufWriter: builds GGUF v3 files in the layout ggml's reader enforces (formats.md §1.2-1.5):
// header, metadata in insertion order, tensor infos in insertion order, padding to the alignment, then
// each tensor's bytes padded to the alignment, with offsets = running sum of the padded sizes.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bonsai/gguf.h"

namespace bonsai::gguf {

struct GgufWriter::Impl {
    struct Kv {
        std::string key;
        std::vector<uint8_t> encoded;  // value type id + value, already serialized
    };
    struct Tensor {
        std::string name;
        TensorType type;
        std::vector<int64_t> ne;
        std::vector<uint8_t> data;
    };
    uint32_t alignment = 32;
    std::vector<Kv> kvs;
    std::vector<Tensor> tensors;

    void set(const std::string& key, std::vector<uint8_t> encoded) {
        if (key.empty()) throw Error("GgufWriter: empty metadata key");
        if (key == "general.alignment") throw Error("GgufWriter: general.alignment is set through the constructor");
        for (auto& kv : kvs) {
            if (kv.key == key) {
                kv.encoded = std::move(encoded);
                return;
            }
        }
        kvs.push_back(Kv{key, std::move(encoded)});
    }
};

namespace {

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
}
void put_string(std::vector<uint8_t>& out, const std::string& s) {
    put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}
template <typename T>
std::vector<uint8_t> scalar(ValueType t, T v) {
    std::vector<uint8_t> e;
    put<uint32_t>(e, static_cast<uint32_t>(t));
    put<T>(e, v);
    return e;
}
template <typename T>
std::vector<uint8_t> array(ValueType elem, const std::vector<T>& v) {
    std::vector<uint8_t> e;
    put<uint32_t>(e, static_cast<uint32_t>(ValueType::ARRAY));
    put<uint32_t>(e, static_cast<uint32_t>(elem));
    put<uint64_t>(e, v.size());
    for (const T& x : v) put<T>(e, x);
    return e;
}
void pad_to(std::vector<uint8_t>& out, uint64_t alignment) {
    out.resize(out.size() + (alignment - out.size() % alignment) % alignment, 0);
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : impl_(std::make_shared<Impl>()) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw Error("GgufWriter: alignment must be a power of two");
    impl_->alignment = alignment;
}

void GgufWriter::set_u8(const std::string& k, uint8_t v) { impl_->set(k, scalar(ValueType::U8, v)); }
void GgufWriter::set_i8(const std::string& k, int8_t v) { impl_->set(k, scalar(ValueType::I8, v)); }
void GgufWriter::set_u16(const std::string& k, uint16_t v) { impl_->set(k, scalar(ValueType::U16, v)); }
void GgufWriter::set_i16(const std::string& k, int16_t v) { impl_->set(k, scalar(ValueType::I16, v)); }
void GgufWriter::set_u32(const std::string& k, uint32_t v) { impl_->set(k, scalar(ValueType::U32, v)); }
void GgufWriter::set_i32(const std::string& k, int32_t v) { impl_->set(k, scalar(ValueType::I32, v)); }
void GgufWriter::set_u64(const std::string& k, uint64_t v) { impl_->set(k, scalar(ValueType::U64, v)); }
void GgufWriter::set_i64(const std::string& k, int64_t v) { impl_->set(k, scalar(ValueType::I64, v)); }
void GgufWriter::set_f32(const std::string& k, float v) { impl_->set(k, scalar(ValueType::F32, v)); }
void GgufWriter::set_f64(const std::string& k, double v) { impl_->set(k, scalar(ValueType::F64, v)); }
void GgufWriter::set_bool(const std::string& k, bool v) { impl_->set(k, scalar<uint8_t>(ValueType::BOOL, v ? 1 : 0)); }

void GgufWriter::set_string(const std::string& k, const std::string& v) {
    std::vector<uint8_t> e;
    put<uint32_t>(e, static_cast<uint32_t>(ValueType::STRING));
    put_string(e, v);
    impl_->set(k, std::move(e));
}

void GgufWriter::set_array_string(const std::string& k, const std::vector<std::string>& v) {
    std::vector<uint8_t> e;
    put<uint32_t>(e, static_cast<uint32_t>(ValueType::ARRAY));
    put<uint32_t>(e, static_cast<uint32_t>(ValueType::STRING));
    put<uint64_t>(e, v.size());
    for (const auto& s : v) put_string(e, s);
    impl_->set(k, std::move(e));
}

void GgufWriter::set_array_u8(const std::string& k, const std::vector<uint8_t>& v) { impl_->set(k, array(ValueType::U8, v)); }
void GgufWriter::set_array_i8(const std::string& k, const std::vector<int8_t>& v) { impl_->set(k, array(ValueType::I8, v)); }
void GgufWriter::set_array_u16(const std::string& k, const std::vector<uint16_t>& v) { impl_->set(k, array(ValueType::U16, v)); }
void GgufWriter::set_array_i16(const std::string& k, const std::vector<int16_t>& v) { impl_->set(k, array(ValueType::I16, v)); }
void GgufWriter::set_array_u32(const std::string& k, const std::vector<uint32_t>& v) { impl_->set(k, array(ValueType::U32, v)); }
void GgufWriter::set_array_i32(const std::string& k, const std::vector<int32_t>& v) { impl_->set(k, array(ValueType::I32, v)); }
void GgufWriter::set_array_u64(const std::string& k, const std::vector<uint64_t>& v) { impl_->set(k, array(ValueType::U64, v)); }
void GgufWriter::set_array_i64(const std::string& k, const std::vector<int64_t>& v) { impl_->set(k, array(ValueType::I64, v)); }
void GgufWriter::set_array_f32(const std::string& k, const std::vector<float>& v) { impl_->set(k, array(ValueType::F32, v)); }
void GgufWriter::set_array_f64(const std::string& k, const std::vector<double>& v) { impl_->set(k, array(ValueType::F64, v)); }
void GgufWriter::set_array_bool(const std::string& k, const std::vector<bool>& v) {
    std::vector<uint8_t> bytes;
    bytes.reserve(v.size());
    for (bool b : v) bytes.push_back(b ? 1 : 0);
    impl_->set(k, array(ValueType::BOOL, bytes));
}

void GgufWriter::add_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& ne, std::vector<uint8_t> data) {
    if (name.empty() || name.size() > 63) throw Error("GgufWriter: tensor name '" + name + "' must be 1..63 bytes");
    if (ne.empty() || ne.size() > 4) throw Error("GgufWriter: tensor '" + name + "' must have 1..4 dimensions");
    for (const auto& t : impl_->tensors) {
        if (t.name == name) throw Error("GgufWriter: duplicate tensor name '" + name + "'");
    }
    int64_t dims[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < ne.size(); ++i) dims[i] = ne[i];
    const size_t expected = tensor_nbytes(type, dims);
    if (data.size() != expected) {
        throw Error("GgufWriter: tensor '" + name + "' has " + std::to_string(data.size()) + " bytes, its " +
                    tensor_type_name(type) + " shape needs " + std::to_string(expected));
    }
    impl_->tensors.push_back(Impl::Tensor{name, type, ne, std::move(data)});
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
    const Impl& m = *impl_;
    const uint64_t A = m.alignment;
    std::vector<uint8_t> out = {'G', 'G', 'U', 'F'};
    put<uint32_t>(out, 3);
    put<uint64_t>(out, m.tensors.size());
    put<uint64_t>(out, m.kvs.size() + (A != 32 ? 1 : 0));
    if (A != 32) {
        put_string(out, "general.alignment");
        const auto e = scalar<uint32_t>(ValueType::U32, m.alignment);
        out.insert(out.end(), e.begin(), e.end());
    }
    for (const auto& kv : m.kvs) {
        put_string(out, kv.key);
        out.insert(out.end(), kv.encoded.begin(), kv.encoded.end());
    }
    uint64_t offset = 0;
    for (const auto& t : m.tensors) {
        put_string(out, t.name);
        put<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
        for (int64_t d : t.ne) put<uint64_t>(out, static_cast<uint64_t>(d));
        put<uint32_t>(out, tensor_type_traits(t.type).file_id);
        put<uint64_t>(out, offset);
        offset += t.data.size() + (A - t.data.size() % A) % A;
    }
    if (!m.tensors.empty()) pad_to(out, A);
    for (const auto& t : m.tensors) {
        out.insert(out.end(), t.data.begin(), t.data.end());
        pad_to(out, A);
    }
    return out;
}

void GgufWriter::write(const std::string& path) const {
    const std::vector<uint8_t> bytes = to_bytes();
    std::FILE* fp = std::fopen(path.c_str(), "wb");
    if (!fp) throw Error("cannot create '" + path + "': " + std::strerror(errno));
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), fp) == bytes.size();
    const bool closed = std::fclose(fp) == 0;
    if (!ok || !closed) throw Error("cannot write '" + path + "' (disk full?)");
}

}  // namespace bonsai::gguf
