#pragma once
// Cooperative-matrix (tensor core) support of a physical device: the query behind
// VulkanDeviceInfo::coop_matmul. The selection rule itself is bonsai::vulkan_coop_matmul_usable.
#include <vulkan/vulkan.h>

#include "bonsai/vulkan_backend.h"

namespace bonsai::vk_detail {

// Reads the extension list, the cooperativeMatrix / shaderFloat16 / vulkanMemoryModel features and
// (when the extension is there) vkGetPhysicalDeviceCooperativeMatrixPropertiesNV of `pd`. Never throws:
// anything that fails leaves the corresponding field false / empty.
VulkanCoopSupport query_coop_support(VkInstance instance, VkPhysicalDevice pd, uint32_t subgroup_size);

}  // namespace bonsai::vk_detail
