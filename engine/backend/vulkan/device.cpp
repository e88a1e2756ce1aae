// Instance creation, validation messenger, device listing and selection.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "backend/vulkan/backend_impl.h"
#include "backend/vulkan/coop_matrix.h"
#include "backend/vulkan/vk_check.h"
#include "bonsai/error.h"

namespace bonsai::vk_detail {

namespace {

const char* k_validation_layer = "VK_LAYER_KHRONOS_validation";

// Every message of every backend in the process, including those raised while a backend is destroyed
// (leaked objects are reported by vkDestroyDevice, after the backend's own counter is unreachable).
std::atomic<uint64_t> g_total_messages{0};

VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                VkDebugUtilsMessageTypeFlagsEXT /*types*/,
                                                const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                void* user) {
    // Only warnings and errors are requested (see create_instance); every one of them is a defect.
    auto* counter = static_cast<MessageCounter*>(user);
    if (counter) counter->count.fetch_add(1);
    g_total_messages.fetch_add(1);
    std::fprintf(stderr, "bonsai vulkan %s: %s\n",
                 (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning",
                 data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

bool has_layer(const char* name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
    std::vector<VkLayerProperties> layers(n);
    if (vkEnumerateInstanceLayerProperties(&n, layers.data()) != VK_SUCCESS) return false;
    for (const auto& l : layers)
        if (std::strcmp(l.layerName, name) == 0) return true;
    return false;
}

bool layer_has_extension(const char* layer, const char* ext) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, nullptr) != VK_SUCCESS) return false;
    std::vector<VkExtensionProperties> exts(n);
    if (vkEnumerateInstanceExtensionProperties(layer, &n, exts.data()) != VK_SUCCESS) return false;
    for (const auto& e : exts)
        if (std::strcmp(e.extensionName, ext) == 0) return true;
    return false;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

const char* type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

int type_rank(const std::string& t) {
    if (t == "discrete") return 4;
    if (t == "integrated") return 3;
    if (t == "virtual") return 2;
    if (t == "cpu") return 1;
    return 0;
}

std::string version_string(uint32_t v) {
    return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
           std::to_string(VK_API_VERSION_PATCH(v));
}

std::string device_list(const std::vector<VulkanDeviceInfo>& devices) {
    std::string s;
    for (const auto& d : devices) {
        s += "\n  " + std::to_string(d.index) + ": " + d.name + " (" + d.type + ", Vulkan " +
             version_string(d.api_version) + ")";
        if (!d.suitable) s += " unusable: " + d.why_not;
    }
    return s;
}

}  // namespace

InstanceHandles create_instance(bool validation, MessageCounter* counter) {
    uint32_t loader_version = 0;
    if (vkEnumerateInstanceVersion(&loader_version) != VK_SUCCESS || loader_version < VK_API_VERSION_1_1)
        throw Error("Vulkan: the installed Vulkan loader is too old (need 1.1 or newer)");
    if (validation && !has_layer(k_validation_layer))
        throw Error("Vulkan: validation was requested (BONSAI_VULKAN_VALIDATION=1) but " +
                    std::string(k_validation_layer) + " is not installed (Debian: vulkan-validationlayers)");

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "bonsai";
    app.pEngineName = "bonsai-engine";
    app.apiVersion = VK_API_VERSION_1_2;

    VkDebugUtilsMessengerCreateInfoEXT dbg{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    dbg.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    dbg.pfnUserCallback = on_debug_message;
    dbg.pUserData = counter;

    // Synchronization validation on top of the default checks: it reports missing barriers between
    // dispatches as hazards, which CPU drivers (lavapipe) would otherwise hide by running serially.
    VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
    features.enabledValidationFeatureCount = 1;
    features.pEnabledValidationFeatures = enables;

    std::vector<const char*> layers, extensions;
    if (validation) {
        layers.push_back(k_validation_layer);
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        if (layer_has_extension(k_validation_layer, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
            extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
            features.pNext = &dbg;
        }
    }
    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
    ci.ppEnabledLayerNames = layers.data();
    ci.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    ci.ppEnabledExtensionNames = extensions.data();
    // The messenger in the chain also catches messages from vkCreateInstance/vkDestroyInstance.
    if (validation) ci.pNext = features.pNext ? static_cast<const void*>(&features) : static_cast<const void*>(&dbg);

    InstanceHandles h;
    VkResult r = vkCreateInstance(&ci, nullptr, &h.instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
        throw Error(std::string("Vulkan: no Vulkan driver is installed or it failed to start (") + result_name(r) + ")");
    check(r, "creating the Vulkan instance");
    if (validation) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(h.instance, "vkCreateDebugUtilsMessengerEXT"));
        if (!create || create(h.instance, &dbg, nullptr, &h.messenger) != VK_SUCCESS) {
            vkDestroyInstance(h.instance, nullptr);
            throw Error("Vulkan: could not create the validation message callback");
        }
    }
    return h;
}

void destroy_instance(InstanceHandles& h) {
    if (h.messenger) {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(h.instance, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy) destroy(h.instance, h.messenger, nullptr);
        h.messenger = VK_NULL_HANDLE;
    }
    if (h.instance) vkDestroyInstance(h.instance, nullptr);
    h.instance = VK_NULL_HANDLE;
}

namespace {
// Packed 4 x 8-bit integer dot products (matvec_dp.comp): VK_KHR_shader_integer_dot_product (core in
// Vulkan 1.3; the backend enables it as the extension, which 1.3 drivers still list) and its feature;
// "fast" when the driver reports the signed and mixed-signedness packed forms accelerated.
void query_int_dot(VkPhysicalDevice pd, VulkanDeviceInfo& info) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr) != VK_SUCCESS) return;
    std::vector<VkExtensionProperties> exts(n);
    if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data()) != VK_SUCCESS) return;
    if (std::none_of(exts.begin(), exts.end(), [](const VkExtensionProperties& e) {
            return std::strcmp(e.extensionName, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME) == 0;
        }))
        return;
    VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR};
    VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f2.pNext = &f;
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    VkPhysicalDeviceShaderIntegerDotProductPropertiesKHR p{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES_KHR};
    VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p2.pNext = &p;
    vkGetPhysicalDeviceProperties2(pd, &p2);
    info.int_dot = f.shaderIntegerDotProduct == VK_TRUE;
    info.int_dot_fast = info.int_dot && p.integerDotProduct4x8BitPackedSignedAccelerated &&
                        p.integerDotProduct4x8BitPackedMixedSignednessAccelerated;
}
}  // namespace

VulkanDeviceInfo describe_device(VkInstance instance, VkPhysicalDevice pd, uint32_t index) {
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(pd, &props);
    VulkanDeviceInfo info;
    info.index = index;
    info.name = props.deviceName;
    info.type = type_name(props.deviceType);
    info.api_version = props.apiVersion;

    std::vector<std::string> missing;
    if (props.apiVersion < VK_API_VERSION_1_2) {
        missing.push_back("Vulkan 1.2");
    } else {
        VkPhysicalDeviceSubgroupProperties sg{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
        VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
        p2.pNext = &sg;
        vkGetPhysicalDeviceProperties2(pd, &p2);
        info.subgroup_size = sg.subgroupSize;
        if (!(sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ||
            (sg.supportedOperations & (VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT)) !=
                (VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT))
            missing.push_back("subgroup arithmetic in compute shaders");

        VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
        f11.pNext = &f12;
        VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        f2.pNext = &f11;
        vkGetPhysicalDeviceFeatures2(pd, &f2);
        if (!f12.storageBuffer8BitAccess) missing.push_back("storageBuffer8BitAccess");
        if (!f11.storageBuffer16BitAccess) missing.push_back("storageBuffer16BitAccess");
        if (props.limits.maxComputeWorkGroupInvocations < 256 || props.limits.maxComputeWorkGroupSize[0] < 256)
            missing.push_back("256-thread workgroups");
        if (props.limits.maxPushConstantsSize < 128) missing.push_back("128 bytes of push constants");
    }
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, nullptr);
    std::vector<VkQueueFamilyProperties> q(nq);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, q.data());
    if (std::none_of(q.begin(), q.end(), [](const auto& f) { return (f.queueFlags & VK_QUEUE_COMPUTE_BIT) != 0; }))
        missing.push_back("a compute queue");

    info.suitable = missing.empty();
    if (info.suitable) info.coop_matmul = vulkan_coop_matmul_usable(query_coop_support(instance, pd, info.subgroup_size));
    if (info.suitable) query_int_dot(pd, info);
    for (size_t i = 0; i < missing.size(); ++i) info.why_not += (i ? ", " : "lacks ") + missing[i];
    return info;
}

uint32_t select_device(const std::vector<VulkanDeviceInfo>& devices, const std::string& wanted) {
    if (devices.empty()) throw Error("Vulkan: no Vulkan device found");
    if (!wanted.empty()) {
        const VulkanDeviceInfo* hit = nullptr;
        bool numeric = std::all_of(wanted.begin(), wanted.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (numeric) {
            unsigned long idx = wanted.size() <= 9 ? std::stoul(wanted) : ~0ul;
            for (const auto& d : devices)
                if (d.index == idx) hit = &d;
        } else {
            for (const auto& d : devices)
                if (lower(d.name).find(lower(wanted)) != std::string::npos) {
                    hit = &d;
                    break;
                }
        }
        if (!hit) throw Error("Vulkan: BONSAI_VULKAN_DEVICE=" + wanted + " matches no device. Devices:" + device_list(devices));
        if (!hit->suitable) throw Error("Vulkan: device " + hit->name + " cannot be used: " + hit->why_not);
        return hit->index;
    }
    const VulkanDeviceInfo* best = nullptr;
    for (const auto& d : devices)
        if (d.suitable && (!best || type_rank(d.type) > type_rank(best->type))) best = &d;
    if (!best) throw Error("Vulkan: no usable Vulkan device. Devices:" + device_list(devices));
    return best->index;
}

}  // namespace bonsai::vk_detail

namespace bonsai {

uint64_t vulkan_validation_messages_total() { return vk_detail::g_total_messages.load(); }

std::vector<VulkanDeviceInfo> list_vulkan_devices() {
    std::vector<VulkanDeviceInfo> out;
    try {
        vk_detail::InstanceHandles h = vk_detail::create_instance(false, nullptr);
        uint32_t n = 0;
        if (vkEnumeratePhysicalDevices(h.instance, &n, nullptr) == VK_SUCCESS && n > 0) {
            std::vector<VkPhysicalDevice> pds(n);
            if (vkEnumeratePhysicalDevices(h.instance, &n, pds.data()) == VK_SUCCESS)
                for (uint32_t i = 0; i < n; ++i) out.push_back(vk_detail::describe_device(h.instance, pds[i], i));
        }
        vk_detail::destroy_instance(h);
    } catch (const Error&) {
        out.clear();  // no loader / driver: no devices
    }
    return out;
}

}  // namespace bonsai
