#include "backend/vulkan/allocator.h"

#include "backend/vulkan/vk_check.h"
#include "bonsai/error.h"

#include <algorithm>

namespace bonsai::vk_detail {

namespace {
VkDeviceSize align_up(VkDeviceSize v, VkDeviceSize a) { return a <= 1 ? v : (v + a - 1) / a * a; }
}  // namespace

void DeviceAllocator::init(VkDevice device, VkPhysicalDevice physical) {
    device_ = device;
    vkGetPhysicalDeviceMemoryProperties(physical, &props_);
}

void DeviceAllocator::destroy() {
    for (auto& c : chunks_) {
        if (c->mapped) vkUnmapMemory(device_, c->memory);
        vkFreeMemory(device_, c->memory, nullptr);
    }
    chunks_.clear();
}

uint32_t DeviceAllocator::pick_type(uint32_t type_bits, VkMemoryPropertyFlags required,
                                    VkMemoryPropertyFlags preferred) const {
    int fallback = -1;
    for (uint32_t i = 0; i < props_.memoryTypeCount; ++i) {
        if (!(type_bits & (1u << i))) continue;
        VkMemoryPropertyFlags f = props_.memoryTypes[i].propertyFlags;
        if ((f & required) != required) continue;
        if ((f & preferred) == preferred) return i;
        if (fallback < 0) fallback = static_cast<int>(i);
    }
    if (fallback < 0) throw Error("Vulkan: the device has no memory type suitable for a buffer");
    return static_cast<uint32_t>(fallback);
}

bool DeviceAllocator::type_is_host_visible(uint32_t type_index) const {
    return (props_.memoryTypes[type_index].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
}

MemoryChunk* DeviceAllocator::new_chunk(VkDeviceSize size, uint32_t type_index, bool dedicated) {
    auto c = std::make_unique<MemoryChunk>();
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = size;
    ai.memoryTypeIndex = type_index;
    check(vkAllocateMemory(device_, &ai, nullptr, &c->memory), "allocating device memory");
    ++vk_allocations_;
    c->size = size;
    c->type_index = type_index;
    c->dedicated = dedicated;
    if (type_is_host_visible(type_index)) {
        VkResult r = vkMapMemory(device_, c->memory, 0, VK_WHOLE_SIZE, 0, &c->mapped);
        if (r != VK_SUCCESS) {
            vkFreeMemory(device_, c->memory, nullptr);
            check(r, "mapping device memory");
        }
    }
    c->free_ranges[0] = size;
    chunks_.push_back(std::move(c));
    return chunks_.back().get();
}

Allocation DeviceAllocator::allocate(const VkMemoryRequirements& req, uint32_t type_index) {
    VkDeviceSize size = std::max<VkDeviceSize>(req.size, 1);
    VkDeviceSize align = std::max<VkDeviceSize>(req.alignment, 1);
    if (size > k_chunk_size / 2) {
        MemoryChunk* c = new_chunk(size, type_index, true);
        c->free_ranges.clear();
        return Allocation{c, 0, size};
    }
    for (int pass = 0; pass < 2; ++pass) {
        for (auto& cp : chunks_) {
            MemoryChunk* c = cp.get();
            if (c->dedicated || c->type_index != type_index) continue;
            for (auto it = c->free_ranges.begin(); it != c->free_ranges.end(); ++it) {
                VkDeviceSize start = it->first, len = it->second;
                VkDeviceSize a = align_up(start, align);
                if (a + size > start + len) continue;
                c->free_ranges.erase(it);
                if (a > start) c->free_ranges[start] = a - start;
                if (a + size < start + len) c->free_ranges[a + size] = start + len - (a + size);
                return Allocation{c, a, size};
            }
        }
        new_chunk(k_chunk_size, type_index, false);  // second pass finds room in it
    }
    throw Error("Vulkan: allocator could not place a buffer");  // unreachable: a fresh chunk always fits
}

void DeviceAllocator::free(const Allocation& a) {
    MemoryChunk* c = a.chunk;
    if (!c) return;
    if (c->dedicated) {
        auto it = std::find_if(chunks_.begin(), chunks_.end(), [c](const auto& p) { return p.get() == c; });
        if (c->mapped) vkUnmapMemory(device_, c->memory);
        vkFreeMemory(device_, c->memory, nullptr);
        if (it != chunks_.end()) chunks_.erase(it);
        return;
    }
    VkDeviceSize start = a.offset, len = a.size;
    auto next = c->free_ranges.lower_bound(start);
    if (next != c->free_ranges.end() && next->first == start + len) {  // merge with the range after
        len += next->second;
        next = c->free_ranges.erase(next);
    }
    if (next != c->free_ranges.begin()) {  // merge with the range before
        auto prev = std::prev(next);
        if (prev->first + prev->second == start) {
            start = prev->first;
            len += prev->second;
            c->free_ranges.erase(prev);
        }
    }
    c->free_ranges[start] = len;
}

}  // namespace bonsai::vk_detail
