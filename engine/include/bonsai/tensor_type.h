#pragma once
// Tensor types: ids as stored in GGUF, block layouts, reference (de)quantization.
// The reference code (engine/quant/) is the ground truth every fast kernel is tested against.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bonsai {

// Our own enumeration. The numeric values are NOT file ids: fork type ids collide (formats.md §2.1),
// so the GGUF reader maps (file id, architecture, file context) to one of these.
enum class TensorType : uint16_t {
    F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, Q1_0, Q2_0, PQ2_0, PTQ1_0, TQ1_0, TQ2_0, I2_S,
    COUNT
};

struct TensorTypeTraits {
    TensorType type;
    const char* name;      // "Q1_0", as tools print it
    uint32_t block_size;   // elements per block (1 for F32/F16/BF16)
    uint32_t block_bytes;  // bytes per block (I2_S: 1 byte per 4 elements, plus a 32-byte tail per tensor)
    uint32_t file_id;      // the id our writer uses in GGUF files
};

const TensorTypeTraits& tensor_type_traits(TensorType t);
const char* tensor_type_name(TensorType t);
std::optional<TensorType> tensor_type_from_name(std::string_view name);  // case-insensitive "q1_0"

// Bytes of one row of `n` elements (n must be a multiple of block_size; throws bonsai::Error otherwise).
// For I2_S, rows are not separately addressable: use tensor_nbytes.
size_t row_nbytes(TensorType t, int64_t n);
// Bytes of a whole tensor with element counts ne[0..3]; throws bonsai::Error on overflow or a bad ne[0].
size_t tensor_nbytes(TensorType t, const int64_t ne[4]);

// Reference dequantization of `n` consecutive elements starting at a block boundary.
// For I2_S pass the whole tensor (the per-tensor scale sits after the codes).
void dequantize(TensorType t, const void* src, float* dst, int64_t n);
// Reference quantization of `n` elements (n a multiple of block_size). Throws for types that have no
// quantizer. `dst` must hold tensor_nbytes bytes. Bit-exact with llama.cpp's quantizer where it has one.
void quantize(TensorType t, const float* src, void* dst, int64_t n);
bool has_quantizer(TensorType t);

// IEEE half / bfloat16 conversions (round to nearest even), shared by every kernel.
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);

}  // namespace bonsai
