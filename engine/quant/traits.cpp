// The tensor-type table, byte-size arithmetic (overflow-checked: sizes come from untrusted files) and
// the dispatch of reference dequantize / quantize to the per-format sources in this folder.
#include <array>
#include <bit>
#include <cctype>
#include <limits>
#include <string>

#include "bonsai/error.h"
#include "quant/quant_detail.h"

namespace bonsai {

static_assert(std::endian::native == std::endian::little, "GGUF blocks are little-endian; big-endian hosts are unsupported");

namespace {

struct Entry {
    TensorTypeTraits traits;
    quant::DequantFn dequant;
    quant::QuantFn quant;  // nullptr: no quantizer
};

// Indexed by TensorType. file_id is what upstream ggml (or, for PQ2_0/PTQ1_0, PrismML's fork, and for
// I2_S, microsoft/BitNet's fork) writes in GGUF tensor infos.
const std::array<Entry, static_cast<size_t>(TensorType::COUNT)> kTable = {{
    {{TensorType::F32, "F32", 1, 4, 0}, quant::dequant_f32, quant::quant_f32},
    {{TensorType::F16, "F16", 1, 2, 1}, quant::dequant_f16, quant::quant_f16},
    {{TensorType::BF16, "BF16", 1, 2, 30}, quant::dequant_bf16, quant::quant_bf16},
    {{TensorType::Q8_0, "Q8_0", 32, 34, 8}, quant::dequant_q8_0, quant::quant_q8_0},
    {{TensorType::Q4_0, "Q4_0", 32, 18, 2}, quant::dequant_q4_0, quant::quant_q4_0},
    {{TensorType::Q4_K, "Q4_K", 256, 144, 12}, quant::dequant_q4_k, nullptr},
    {{TensorType::Q6_K, "Q6_K", 256, 210, 14}, quant::dequant_q6_k, nullptr},
    {{TensorType::Q1_0, "Q1_0", 128, 18, 41}, quant::dequant_q1_0, quant::quant_q1_0},
    {{TensorType::Q2_0, "Q2_0", 64, 18, 42}, quant::dequant_q2_0, quant::quant_q2_0},
    {{TensorType::PQ2_0, "PQ2_0", 128, 34, 142}, quant::dequant_pq2_0, quant::quant_pq2_0},
    {{TensorType::PTQ1_0, "PTQ1_0", 128, 28, 143}, quant::dequant_ptq1_0, quant::quant_ptq1_0},
    {{TensorType::TQ1_0, "TQ1_0", 256, 54, 34}, quant::dequant_tq1_0, quant::quant_tq1_0},
    {{TensorType::TQ2_0, "TQ2_0", 256, 66, 35}, quant::dequant_tq2_0, quant::quant_tq2_0},
    // I2_S: codes of 128 elements take 32 bytes; the 32-byte per-tensor tail is added by tensor_nbytes.
    {{TensorType::I2_S, "I2_S", 128, 32, 36}, quant::dequant_i2_s, quant::quant_i2_s},
}};

const Entry& entry(TensorType t) {
    const auto i = static_cast<size_t>(t);
    if (i >= kTable.size()) throw Error("invalid tensor type value " + std::to_string(i));
    return kTable[i];
}

// Checks n against the block size; returns the number of blocks.
int64_t checked_blocks(TensorType t, int64_t n) {
    const auto& tr = entry(t).traits;
    if (n < 0) throw Error(std::string(tr.name) + ": negative element count " + std::to_string(n));
    if (n % tr.block_size != 0) {
        throw Error(std::string(tr.name) + ": " + std::to_string(n) + " elements is not a multiple of the block size " +
                    std::to_string(tr.block_size));
    }
    return n / tr.block_size;
}

}  // namespace

const TensorTypeTraits& tensor_type_traits(TensorType t) { return entry(t).traits; }
const char* tensor_type_name(TensorType t) { return entry(t).traits.name; }

std::optional<TensorType> tensor_type_from_name(std::string_view name) {
    for (const auto& e : kTable) {
        const std::string_view n = e.traits.name;
        if (n.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < n.size() && same; ++i) {
            same = std::toupper(static_cast<unsigned char>(name[i])) == static_cast<unsigned char>(n[i]);
        }
        if (same) return e.traits.type;
    }
    return std::nullopt;
}

size_t row_nbytes(TensorType t, int64_t n) {
    const int64_t blocks = checked_blocks(t, n);
    const uint64_t bb = entry(t).traits.block_bytes;
    if (static_cast<uint64_t>(blocks) > std::numeric_limits<size_t>::max() / bb) {
        throw Error(std::string(tensor_type_name(t)) + ": row of " + std::to_string(n) + " elements overflows size_t");
    }
    return static_cast<size_t>(static_cast<uint64_t>(blocks) * bb);
}

size_t tensor_nbytes(TensorType t, const int64_t ne[4]) {
    const char* name = tensor_type_name(t);
    for (int k = 0; k < 4; ++k) {
        if (ne[k] < 0) throw Error(std::string(name) + ": negative dimension ne[" + std::to_string(k) + "]=" + std::to_string(ne[k]));
    }
    // Number of rows, overflow-checked in uint64.
    uint64_t rows = 1;
    for (int k = 1; k < 4; ++k) {
        const auto d = static_cast<uint64_t>(ne[k]);
        if (d != 0 && rows > std::numeric_limits<uint64_t>::max() / d) throw Error(std::string(name) + ": tensor element count overflows");
        rows *= d;
    }
    const uint64_t row = row_nbytes(t, ne[0]);
    if (row != 0 && rows > std::numeric_limits<size_t>::max() / row) {
        throw Error(std::string(name) + ": tensor byte size overflows");
    }
    uint64_t total = rows * row;
    if (t == TensorType::I2_S) {
        if (total > std::numeric_limits<size_t>::max() - 32) throw Error("I2_S: tensor byte size overflows");
        total += 32;
    }
    // Element count must also fit int64 (TensorInfo::n_elements / n_rows multiply the dimensions in int64).
    // The product of the non-zero dimensions bounds every partial product they compute, also when a
    // zero dimension makes the total 0 (e.g. {2^50, 2^20, 0}: ne[0]*ne[1] alone overflows; found by fuzz_gguf).
    uint64_t elems = 1;
    for (int k = 0; k < 4; ++k) {
        const auto d = static_cast<uint64_t>(ne[k]);
        if (d == 0) continue;
        if (elems > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / d) {
            throw Error(std::string(name) + ": tensor element count overflows");
        }
        elems *= d;
    }
    return static_cast<size_t>(total);
}

void dequantize(TensorType t, const void* src, float* dst, int64_t n) {
    checked_blocks(t, n);
    if (n == 0) return;
    entry(t).dequant(static_cast<const uint8_t*>(src), dst, n);
}

bool has_quantizer(TensorType t) { return entry(t).quant != nullptr; }

void quantize(TensorType t, const float* src, void* dst, int64_t n) {
    const Entry& e = entry(t);
    if (!e.quant) throw Error(std::string("no quantizer for tensor type ") + e.traits.name);
    checked_blocks(t, n);
    if (n == 0) return;
    e.quant(src, static_cast<uint8_t*>(dst), n);
}

}  // namespace bonsai
