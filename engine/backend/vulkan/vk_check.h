#pragma once
// VkResult -> bonsai::Error, so every failing Vulkan call reports what failed and why.
#include <vulkan/vulkan.h>

#include <string>

namespace bonsai::vk_detail {

// "VK_ERROR_OUT_OF_DEVICE_MEMORY" style name of a result code.
const char* result_name(VkResult r);

// Throws bonsai::Error("Vulkan: <what> failed (<result>)") unless r is VK_SUCCESS.
void check(VkResult r, const char* what);

}  // namespace bonsai::vk_detail
