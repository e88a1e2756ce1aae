// Fuzz target: the GGUF reader (GgufFile::from_memory) and what a loader does next with a file it
// accepted: read every metadata value and array element, touch every byte of every tensor, dequantize
// the first rows of each tensor, and build a tokenizer when the file carries tokenizer metadata.
//
// Invariants for any input: only bonsai::Error escapes; an accepted file's tensors lie inside the
// buffer with nbytes == tensor_nbytes(type, ne) and an aligned offset; lookups by name find them.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "bonsai/error.h"
#include "bonsai/gguf.h"
#include "bonsai/tensor_type.h"
#include "bonsai/tokenizer.h"
#include "fuzz_common.h"

namespace {

constexpr const char* kTarget = "gguf";
// Dequantize at most this many elements per tensor (keeps one input's work small).
constexpr int64_t kMaxDequant = 1 << 16;

void walk_metadata(const bonsai::gguf::GgufFile& f) {
    using bonsai::gguf::ValueType;
    for (const auto& kv : f.metadata()) {
        BONSAI_FUZZ_CHECK(kTarget, f.find(kv.key) != nullptr, "metadata key '" + kv.key + "' not found by find()");
        if (kv.type != ValueType::ARRAY) continue;
        const auto& a = kv.arr;
        // Every element of short arrays, the first and last few of long ones.
        const uint64_t n = a.size();
        for (uint64_t i = 0; i < n; i = (i < 8 || i + 8 >= n) ? i + 1 : n - 8) {
            try {
                switch (a.elem_type()) {
                case ValueType::STRING: (void)a.string_at(i).size(); break;
                case ValueType::F32:
                case ValueType::F64: (void)a.float_at(i); break;
                case ValueType::ARRAY: break;
                default: (void)a.int_at(i); break;
                }
            } catch (const bonsai::Error&) {
                // U64 above INT64_MAX, nested arrays: documented errors.
            }
        }
        // Out of range must throw, never read.
        bool threw = false;
        try {
            (void)a.int_at(n);
        } catch (const bonsai::Error&) {
            threw = true;
        }
        BONSAI_FUZZ_CHECK(kTarget, threw, "array element past the end did not throw");
    }
    try {
        (void)f.architecture();
        (void)f.get_string("general.name");
        (void)f.get_int("general.alignment");
    } catch (const bonsai::Error&) {
    }
}

void walk_tensors(const bonsai::gguf::GgufFile& f, const uint8_t* data, size_t size) {
    std::vector<float> out;
    for (const auto& t : f.tensors()) {
        BONSAI_FUZZ_CHECK(kTarget, f.tensor(t.name) == &t, "tensor '" + t.name + "' not found by name");
        BONSAI_FUZZ_CHECK(kTarget, t.data >= data && t.nbytes <= size && t.data - data <= static_cast<ptrdiff_t>(size - t.nbytes),
                          "tensor '" + t.name + "' lies outside the file");
        BONSAI_FUZZ_CHECK(kTarget, t.offset % f.alignment() == 0, "tensor '" + t.name + "' offset is not aligned");
        BONSAI_FUZZ_CHECK(kTarget, t.nbytes == bonsai::tensor_nbytes(t.type, t.ne), "tensor '" + t.name + "' nbytes mismatch");
        // n_elements() / n_rows() multiply the dimensions in int64: every partial product must fit,
        // also when a zero dimension makes the total 0 (regressions/gguf/zero-dim-with-overflowing-product.gguf).
        int64_t product = 1;
        for (int k = 0; k < 4; ++k)
            if (t.ne[k] != 0)
                BONSAI_FUZZ_CHECK(kTarget, !__builtin_mul_overflow(product, t.ne[k], &product),
                                  "tensor '" + t.name + "': accepted dimensions whose product overflows int64");
        // Touch every byte (ASan reports a read outside the buffer).
        unsigned sum = 0;
        for (uint64_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
        (void)sum;

        int64_t n = 0;
        if (t.type == bonsai::TensorType::I2_S) {
            n = t.n_elements();  // I2_S: whole tensor only (its scale follows the codes)
        } else if (t.ne[0] > 0 && t.n_rows() > 0) {
            n = t.ne[0] * std::min<int64_t>(t.n_rows(), 2);
        }
        if (n <= 0 || n > kMaxDequant) continue;
        out.assign(static_cast<size_t>(n), 0.0f);
        bonsai::dequantize(t.type, t.data, out.data(), n);
        // F32/F16/BF16 may hold NaN/Inf from the file; quantized types scale small integers by a stored
        // float, so a non-finite result only follows a non-finite scale. Nothing to assert beyond ASan.
    }
}

void try_tokenizer(const bonsai::gguf::GgufFile& f) {
    if (!f.find("tokenizer.ggml.model")) return;
    try {
        auto tok = bonsai::Tokenizer::from_gguf(f);
        const auto ids = tok->encode("Hello world <|im_end|> \xF0\x9F\x8C\xB3", true, true);
        for (int32_t id : ids) BONSAI_FUZZ_CHECK(kTarget, id >= 0 && id < tok->n_vocab(), "token id out of range");
        (void)tok->decode(ids, true);
    } catch (const bonsai::Error&) {
    }
}

}  // namespace

int bonsai_fuzz_gguf(const uint8_t* data, size_t size) {
    // from_memory keeps a pointer to the bytes: copy them so ASan sees reads past the end exactly.
    std::vector<uint8_t> bytes(data, data + size);
    std::unique_ptr<bonsai::gguf::GgufFile> f;
    try {
        f = bonsai::gguf::GgufFile::from_memory(bytes.data(), bytes.size(), "fuzz.gguf");
    } catch (const bonsai::Error&) {
        return 0;
    }
    BONSAI_FUZZ_CHECK(kTarget, f->file_size() == size, "file_size() differs from the input size");
    BONSAI_FUZZ_CHECK(kTarget, f->data_offset() <= size, "data section starts past the end");
    walk_metadata(*f);
    walk_tensors(*f, bytes.data(), bytes.size());
    try_tokenizer(*f);
    return 0;
}

BONSAI_FUZZ_ENTRY(bonsai_fuzz_gguf)
