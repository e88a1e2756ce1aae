#pragma once
// Private state of VulkanBackend and VulkanBuffer (public API: bonsai/vulkan_backend.h).
#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "backend/vulkan/allocator.h"
#include "bonsai/vulkan_backend.h"

namespace bonsai {

struct VulkanBuffer::Impl {
    VulkanBackend::Impl* owner = nullptr;
    VkBuffer buffer = VK_NULL_HANDLE;
    vk_detail::Allocation alloc;
    size_t size = 0;
    bool host_visible = false;
    ~Impl();
};

namespace vk_detail {

// Counts validation messages; the debug-utils callback's user data.
struct MessageCounter {
    std::atomic<uint64_t> count{0};
};

// One compute pipeline: `bindings` storage buffers at bindings 0..n-1 and up to 128 bytes of push constants.
struct Pipeline {
    VkShaderModule module = VK_NULL_HANDLE;
    VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
    uint32_t bindings = 0;
};

// Instance-level pieces shared by list_vulkan_devices() and the backend (device.cpp).
struct InstanceHandles {
    VkInstance instance = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
};
// Creates an instance (Vulkan 1.2 API), optionally with the validation layer and a messenger that
// counts into `counter`. Throws bonsai::Error when there is no loader/driver or the layer is missing.
InstanceHandles create_instance(bool validation, MessageCounter* counter);
void destroy_instance(InstanceHandles& h);
// Describes a physical device and decides whether the backend can use it.
VulkanDeviceInfo describe_device(VkPhysicalDevice pd, uint32_t index);
// Picks a device per Options::device (see vulkan_backend.h). Throws bonsai::Error listing the devices.
uint32_t select_device(const std::vector<VulkanDeviceInfo>& devices, const std::string& wanted);

}  // namespace vk_detail

struct VulkanBackend::Impl {
    vk_detail::MessageCounter messages;
    vk_detail::InstanceHandles inst;
    bool validation = false;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    VulkanDeviceInfo info;
    VkPhysicalDeviceLimits limits{};
    VkDevice device = VK_NULL_HANDLE;
    uint32_t queue_family = 0;
    VkQueue queue = VK_NULL_HANDLE;
    vk_detail::DeviceAllocator allocator;

    VkCommandPool cmd_pool = VK_NULL_HANDLE;
    VkCommandBuffer cmd = VK_NULL_HANDLE;       // op recording
    VkCommandBuffer xfer_cmd = VK_NULL_HANDLE;  // uploads / downloads
    VkFence fence = VK_NULL_HANDLE;
    bool recording = false;

    std::vector<VkDescriptorPool> pools;  // reset at begin(); a new one only when a recording needs more sets
    size_t pool_index = 0;
    uint32_t sets_in_pool = 0;  // sets taken from pools[pool_index] in this recording
    static constexpr uint32_t k_sets_per_pool = 256;
    static constexpr uint32_t k_max_bindings = 5;

    std::map<std::string, vk_detail::Pipeline> pipelines;
    VulkanBuffer staging;
    static constexpr size_t k_staging_bytes = 16u << 20;
    VulkanStats stats;

    // BONSAI_VULKAN_PROFILE=1 (diagnostics): a timestamp after every dispatch; the GPU time per shader
    // ("[batch]" when the dispatch had several workgroup rows) is printed to stderr at destruction.
    VkQueryPool ts_pool = VK_NULL_HANDLE;
    static constexpr uint32_t k_max_timestamps = 4096;
    double ts_period_ns = 1.0;
    std::vector<std::string> ts_names;  // the dispatch that ends at timestamp i + 1
    std::map<std::string, std::pair<double, uint64_t>> profile_ns;  // total ns, dispatches
    void profile_begin();
    void profile_mark(const char* shader, uint32_t groups_y);
    void profile_collect();
    void profile_print() const;

    explicit Impl(const Options& o);
    ~Impl();
    void release();  // destroys everything created so far; safe to call twice

    // Creates (once) and returns the pipeline of embedded shader `name`.
    vk_detail::Pipeline& pipeline(const char* name, uint32_t bindings);
    // Records one dispatch: binds buffers 0..n-1 whole, pushes `push` (bytes), dispatches `groups`
    // workgroups in x (split over y above 65535) and `groups_y` in y, then a compute barrier.
    void dispatch(const char* shader, std::initializer_list<const VulkanBuffer*> buffers, const void* push,
                  uint32_t push_bytes, uint64_t groups, uint32_t groups_y = 1);
    void require_recording(const char* op) const;
    // Submits xfer_cmd and waits (uploads/downloads).
    void submit_transfer();
    void submit_and_wait(VkCommandBuffer cb);
};

}  // namespace bonsai
