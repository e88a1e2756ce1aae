#pragma once
// A simple device-memory allocator: big VkDeviceMemory chunks per memory type, carved first-fit with
// a coalescing free list. Weights and activations are allocated once at load time, so this favours
// simplicity over fragmentation resistance. Host-visible chunks are mapped persistently.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace bonsai::vk_detail {

struct MemoryChunk {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize size = 0;
    uint32_t type_index = 0;
    void* mapped = nullptr;          // whole chunk, when the memory type is host visible
    bool dedicated = false;          // holds exactly one allocation; released when it is freed
    std::map<VkDeviceSize, VkDeviceSize> free_ranges;  // offset -> length
};

// One carved range.
struct Allocation {
    MemoryChunk* chunk = nullptr;
    VkDeviceSize offset = 0;
    VkDeviceSize size = 0;
    void* mapped() const { return chunk && chunk->mapped ? static_cast<char*>(chunk->mapped) + offset : nullptr; }
};

class DeviceAllocator {
public:
    static constexpr VkDeviceSize k_chunk_size = 64ull << 20;  // requests above half of this get their own chunk

    void init(VkDevice device, VkPhysicalDevice physical);
    void destroy();  // frees every chunk (call after all buffers are gone)

    // Memory type for `type_bits` (from vkGetBufferMemoryRequirements) with `required` flags,
    // preferring also `preferred`. Throws bonsai::Error when none fits.
    uint32_t pick_type(uint32_t type_bits, VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) const;
    bool type_is_host_visible(uint32_t type_index) const;

    Allocation allocate(const VkMemoryRequirements& req, uint32_t type_index);
    void free(const Allocation& a);

    uint64_t vk_allocations() const { return vk_allocations_; }

private:
    MemoryChunk* new_chunk(VkDeviceSize size, uint32_t type_index, bool dedicated);

    VkDevice device_ = VK_NULL_HANDLE;
    VkPhysicalDeviceMemoryProperties props_{};
    std::vector<std::unique_ptr<MemoryChunk>> chunks_;
    uint64_t vk_allocations_ = 0;
};

}  // namespace bonsai::vk_detail
