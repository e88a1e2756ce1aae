#pragma once
// The SPIR-V modules compiled from shaders/*.comp at build time and embedded by embed_spirv.cmake.
#include <cstddef>
#include <cstdint>

namespace bonsai::vk_detail {

// One embedded module: its name is the .spv file name without extension ("matvec_q1_0").
struct EmbeddedShader {
    const char* name;
    const uint32_t* words;  // SPIR-V words, host endianness
    size_t word_count;
};

extern const EmbeddedShader k_embedded_shaders[];
extern const size_t k_embedded_shader_count;

// The module called `name`, or nullptr.
const EmbeddedShader* find_embedded_shader(const char* name);

}  // namespace bonsai::vk_detail
