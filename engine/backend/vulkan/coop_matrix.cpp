// Tensor-core matmul selection: the pure rule (public, unit-tested) and the device query.
#include "backend/vulkan/coop_matrix.h"

#include <cstring>
#include <vector>

namespace bonsai {

bool vulkan_coop_matmul_usable(const VulkanCoopSupport& s) {
    if (!s.extension || !s.feature || !s.shader_float16 || !s.memory_model) return false;
    if (s.subgroup_size != 32) return false;  // matmul_coop.comp: 8 subgroups x 32 lanes, 2 x 2 fragments each
    for (const VulkanCoopShape& sh : s.shapes)
        if (sh.m == 16 && sh.n == 16 && sh.k == 16 && sh.a_f16 && sh.b_f16 && sh.c_f32 && sh.d_f32 && sh.subgroup_scope)
            return true;
    return false;
}

namespace vk_detail {

VulkanCoopSupport query_coop_support(VkInstance instance, VkPhysicalDevice pd, uint32_t subgroup_size) {
    VulkanCoopSupport s;
    s.subgroup_size = subgroup_size;
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr) != VK_SUCCESS) return s;
    std::vector<VkExtensionProperties> exts(n);
    if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data()) != VK_SUCCESS) return s;
    exts.resize(n);
    for (const auto& e : exts)
        if (std::strcmp(e.extensionName, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME) == 0) s.extension = true;

    VkPhysicalDeviceCooperativeMatrixFeaturesNV cm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    if (s.extension) f12.pNext = &cm;  // chain the extension's struct only where the extension exists
    VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f2.pNext = &f12;
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    s.feature = s.extension && cm.cooperativeMatrix;
    s.shader_float16 = f12.shaderFloat16;
    s.memory_model = f12.vulkanMemoryModel;
    if (!s.extension) return s;

    auto get = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV>(
        vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"));
    if (!get) return s;
    uint32_t np = 0;
    if (get(pd, &np, nullptr) != VK_SUCCESS || np == 0 || np > 1024) return s;
    std::vector<VkCooperativeMatrixPropertiesNV> props(np, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV});
    if (get(pd, &np, props.data()) != VK_SUCCESS && np == 0) return s;
    props.resize(np);
    for (const auto& p : props) {
        VulkanCoopShape sh;
        sh.m = p.MSize;
        sh.n = p.NSize;
        sh.k = p.KSize;
        sh.a_f16 = p.AType == VK_COMPONENT_TYPE_FLOAT16_NV;
        sh.b_f16 = p.BType == VK_COMPONENT_TYPE_FLOAT16_NV;
        sh.c_f32 = p.CType == VK_COMPONENT_TYPE_FLOAT32_NV;
        sh.d_f32 = p.DType == VK_COMPONENT_TYPE_FLOAT32_NV;
        sh.subgroup_scope = p.scope == VK_SCOPE_SUBGROUP_NV;
        s.shapes.push_back(sh);
    }
    return s;
}

}  // namespace vk_detail
}  // namespace bonsai
