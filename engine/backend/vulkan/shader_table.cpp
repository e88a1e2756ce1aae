#include "backend/vulkan/shader_table.h"

#include <cstring>

namespace bonsai::vk_detail {

const EmbeddedShader* find_embedded_shader(const char* name) {
    for (size_t i = 0; i < k_embedded_shader_count; ++i)
        if (std::strcmp(k_embedded_shaders[i].name, name) == 0) return &k_embedded_shaders[i];
    return nullptr;
}

}  // namespace bonsai::vk_detail
