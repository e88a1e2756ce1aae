#pragma once
// Private state of VulkanBackend and VulkanBuffer (public API: bonsai/vulkan_backend.h).
#include <vulkan/vulkan.h>

#include <array>
#include <atomic>
#include <compare>
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
// Describes a physical device and decides whether the backend can use it (and its tensor-core matmul).
VulkanDeviceInfo describe_device(VkInstance instance, VkPhysicalDevice pd, uint32_t index);
// Picks a device per Options::device (see vulkan_backend.h). Throws bonsai::Error listing the devices.
uint32_t select_device(const std::vector<VulkanDeviceInfo>& devices, const std::string& wanted);

}  // namespace vk_detail

struct VulkanBackend::Impl {
    vk_detail::MessageCounter messages;
    vk_detail::InstanceHandles inst;
    bool validation = false;
    bool use_coop = false;  // matmul records matmul_coop.comp (device has it and Options::coop_matmul)
    // matvec_dp.comp: 0 never, 1 for all its types, 2 for those it measured faster for on an H100
    // (Q1_0 keeps the table matvec there). From Options::int_dot and the device.
    uint32_t matvec_int_dot = 0;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    VulkanDeviceInfo info;
    VkPhysicalDeviceLimits limits{};
    VkDevice device = VK_NULL_HANDLE;
    uint32_t queue_family = 0;
    VkQueue queue = VK_NULL_HANDLE;
    vk_detail::DeviceAllocator allocator;

    VkCommandPool cmd_pool = VK_NULL_HANDLE;
    VkCommandBuffer cmd = VK_NULL_HANDLE;       // op recording: the current one of op_cmds
    // Op command buffers of one recording: flush() submits the current one and continues in the next.
    static constexpr uint32_t k_op_cmds = 16;
    VkCommandBuffer op_cmds[k_op_cmds]{};
    uint32_t op_cmd_index = 0;
    VkCommandBuffer xfer_cmd = VK_NULL_HANDLE;  // uploads / downloads
    VkFence fence = VK_NULL_HANDLE;
    bool recording = false;

    // Descriptor sets, cached per (set layout, bound buffers): every buffer is bound whole, so a decode
    // step binds the same combinations every token and, after the first, allocates and writes no set.
    // Sets come from `pools` (a new pool when the current one is full). A destroyed buffer's entries
    // are dropped at once (a new buffer may get the same handle); all pools are reset and the cache
    // emptied at a begin() once more than k_max_cached_sets sets were dropped that way.
    std::vector<VkDescriptorPool> pools;
    size_t pool_index = 0;
    uint32_t sets_in_pool = 0;    // sets taken from pools[pool_index]
    uint64_t sets_allocated = 0;  // since the last reset
    static constexpr uint32_t k_sets_per_pool = 256;
    static constexpr uint32_t k_max_bindings = 7;
    static constexpr uint64_t k_max_cached_sets = 4096;
    struct SetKey {
        VkDescriptorSetLayout layout = VK_NULL_HANDLE;
        std::array<VkBuffer, k_max_bindings> buffers{};
        auto operator<=>(const SetKey&) const = default;
    };
    std::map<SetKey, VkDescriptorSet> set_cache;
    void forget_buffer(VkBuffer b);  // drops the cached sets that bind b
    // Diagnostics: the next profile_mark names its dispatch "<shader> [<tag>]" (e.g. "split").
    const char* profile_tag = nullptr;

    std::map<std::string, vk_detail::Pipeline> pipelines;
    VulkanBuffer staging;
    static constexpr size_t k_staging_bytes = 16u << 20;
    VulkanStats stats;

    // Split-K matvec (matvec_w.comp): scratch of k_split_counters uint counters (zeroed once when
    // created, reset by the shader after use) followed by k_split_partials floats of partial sums.
    // Created on the first split matvec, never resized (a recording may still reference it).
    VulkanBuffer splitk;
    static constexpr uint32_t k_split_counters = 65536;  // = SPLIT_CNT in matvec_w.comp
    static constexpr uint32_t k_split_partials = 1u << 20;
    // Workgroups a matvec_w dispatch should have at least (0: never split); see set_matvec_split_target.
    uint32_t matvec_wg_target = 0;
    uint32_t coop_x16 = 2;  // Options::coop_x16
    // f16 copy of a tensor-core matmul's X (created on first use, at most maxStorageBufferRange; larger
    // inputs keep f32 X). Shared by every matmul: the barrier after each dispatch orders one matmul's
    // reads before the next one's conversion.
    static constexpr uint64_t k_x16_bytes = uint64_t(32) << 20;
    VulkanBuffer x16;
    bool tiled_prompt_attention = true;  // Options::tiled_prompt_attention
    bool decode_attention128 = true;     // Options::decode_attention128
    // Rows per lane team of the Q1_0 / Q2_0 / TQ2_0 table matvec (4, 8 or k_matvec_lut_auto; 0: the
    // word matvec_w) and passes per table chunk (1, 2, 4): Options::matvec_lut_rows / _passes.
    uint32_t matvec_lut_rows = 0;
    uint32_t matvec_lut_passes = 1;
    // Tensor-core matmul tile width: 0 = 64 columns, 1 = 128, 2 = by matrix (Options::coop_tiles).
    uint32_t coop_wide = 2;
    // Creates `splitk` and records its zero fill into the open command buffer (before its first use).
    void ensure_splitk();

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
    // The second half of dispatch(): binds, pushes, dispatches and records the barrier.
    void record_dispatch(const char* shader, const vk_detail::Pipeline& p, VkDescriptorSet set, const void* push,
                         uint32_t push_bytes, uint64_t groups, uint32_t groups_y);
    void require_recording(const char* op) const;
    // vkCmdCopyBuffer between barriers (earlier shader writes -> copy; copy -> later shaders and host).
    void record_copy(const VulkanBuffer& src, uint64_t src_off, const VulkanBuffer& dst, uint64_t dst_off, uint64_t bytes);
    // Submits xfer_cmd and waits (uploads/downloads).
    void submit_transfer();
    void submit_and_wait(VkCommandBuffer cb);
};

}  // namespace bonsai
