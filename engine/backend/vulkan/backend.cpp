// VulkanBackend: device + queue set-up, buffers, transfers, command recording and pipelines.
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <string>
#include <vector>

#include "backend/vulkan/backend_impl.h"
#include "backend/vulkan/shader_table.h"
#include "backend/vulkan/vk_check.h"
#include "bonsai/error.h"

namespace bonsai {

using vk_detail::check;

// ---------------------------------------------------------------- buffers

VulkanBuffer::Impl::~Impl() {
    if (owner && owner->device) {
        if (buffer) owner->forget_buffer(buffer);
        if (buffer) vkDestroyBuffer(owner->device, buffer, nullptr);
        owner->allocator.free(alloc);
    }
}

VulkanBuffer::VulkanBuffer() = default;
VulkanBuffer::~VulkanBuffer() = default;
VulkanBuffer::VulkanBuffer(VulkanBuffer&&) noexcept = default;
VulkanBuffer& VulkanBuffer::operator=(VulkanBuffer&&) noexcept = default;
size_t VulkanBuffer::size() const { return impl_ ? impl_->size : 0; }
bool VulkanBuffer::host_visible() const { return impl_ && impl_->host_visible; }
void* VulkanBuffer::data() const { return impl_ && impl_->host_visible ? impl_->alloc.mapped() : nullptr; }

// ---------------------------------------------------------------- options

VulkanBackend::Options VulkanBackend::Options::from_environment() {
    Options o;
    if (const char* d = std::getenv("BONSAI_VULKAN_DEVICE")) o.device = d;
    if (const char* v = std::getenv("BONSAI_VULKAN_VALIDATION")) o.validation = std::string(v) == "1";
    if (const char* t = std::getenv("BONSAI_VULKAN_MATVEC_WGS"); t && *t) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(t, &end, 10);
        if (*end == '\0' && v <= 1000000) o.matvec_split_target = static_cast<uint32_t>(v);
    }
    if (const char* a = std::getenv("BONSAI_VULKAN_TILED_ATTENTION")) o.tiled_prompt_attention = std::string(a) != "0";
    if (const char* a = std::getenv("BONSAI_VULKAN_DECODE_ATTENTION")) o.decode_attention128 = std::string(a) != "0";
    if (const char* x = std::getenv("BONSAI_VULKAN_COOP_X16"); x && (std::string(x) == "0" || std::string(x) == "1" || std::string(x) == "2"))
        o.coop_x16 = static_cast<uint32_t>(x[0] - '0');
    if (const char* c = std::getenv("BONSAI_VULKAN_COOP_MATMUL")) o.coop_matmul = std::string(c) != "0";
    if (const char* l = std::getenv("BONSAI_VULKAN_MATVEC_LUT"); l && *l) {
        const std::string v = l;
        if (v == "0") o.matvec_lut_rows = 0;
        if (v.size() >= 1 && (v[0] == '4' || v[0] == '8' || v[0] == 'a')) {
            const bool passes_ok = v.size() == 1 || (v.size() == 3 && v[1] == 'x' && (v[2] == '1' || v[2] == '2' || v[2] == '4'));
            if (passes_ok) {
                o.matvec_lut_rows = v[0] == 'a' ? k_matvec_lut_auto : static_cast<uint32_t>(v[0] - '0');
                if (v.size() == 3) o.matvec_lut_passes = static_cast<uint32_t>(v[2] - '0');
            }
        }
    }
    if (const char* d = std::getenv("BONSAI_VULKAN_INT_DOT"); d && (std::string(d) == "0" || std::string(d) == "1" || std::string(d) == "2"))
        o.int_dot = static_cast<uint32_t>(d[0] - '0');
    if (const char* w = std::getenv("BONSAI_VULKAN_COOP_WIDE"); w && (std::string(w) == "0" || std::string(w) == "1"))
        o.coop_tiles = static_cast<uint32_t>(w[0] - '0');
    return o;
}

// ---------------------------------------------------------------- device set-up

VulkanBackend::Impl::Impl(const Options& o) {
    validation = o.validation;
    matvec_wg_target = o.matvec_split_target;
    coop_x16 = o.coop_x16 <= 2 ? o.coop_x16 : 2;
    tiled_prompt_attention = o.tiled_prompt_attention;
    decode_attention128 = o.decode_attention128;
    const uint32_t lr = o.matvec_lut_rows;
    matvec_lut_rows = lr == 4 || lr == 8 || lr == VulkanBackend::k_matvec_lut_auto ? lr : 0;
    matvec_lut_passes = o.matvec_lut_passes == 2 || o.matvec_lut_passes == 4 ? o.matvec_lut_passes : 1;
    coop_wide = o.coop_tiles <= 2 ? o.coop_tiles : 2;
    inst = vk_detail::create_instance(validation, &messages);
    try {
        uint32_t n = 0;
        check(vkEnumeratePhysicalDevices(inst.instance, &n, nullptr), "listing Vulkan devices");
        if (n == 0) throw Error("Vulkan: no Vulkan device found");
        std::vector<VkPhysicalDevice> pds(n);
        check(vkEnumeratePhysicalDevices(inst.instance, &n, pds.data()), "listing Vulkan devices");
        std::vector<VulkanDeviceInfo> infos;
        for (uint32_t i = 0; i < n; ++i) infos.push_back(vk_detail::describe_device(inst.instance, pds[i], i));
        uint32_t pick = vk_detail::select_device(infos, o.device);
        physical = pds[pick];
        info = infos[pick];
        VkPhysicalDeviceProperties props{};
        vkGetPhysicalDeviceProperties(physical, &props);
        limits = props.limits;
        // matmul_coop.comp keeps 36 KiB of tiles in shared memory.
        use_coop = info.coop_matmul && o.coop_matmul && limits.maxComputeSharedMemorySize >= 36u * 1024u + 1024u;

        matvec_int_dot = (o.int_dot == 1 && info.int_dot) ? 1u : (o.int_dot == 2 && info.int_dot_fast) ? 2u : 0u;

        uint32_t nq = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(physical, &nq, nullptr);
        std::vector<VkQueueFamilyProperties> qf(nq);
        vkGetPhysicalDeviceQueueFamilyProperties(physical, &nq, qf.data());
        queue_family = nq;
        for (uint32_t i = 0; i < nq && queue_family == nq; ++i)
            if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) queue_family = i;

        float prio = 1.0f;
        VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
        qci.queueFamilyIndex = queue_family;
        qci.queueCount = 1;
        qci.pQueuePriorities = &prio;
        // Only what the shaders use: byte / 16-bit loads from storage buffers (no 8/16-bit arithmetic).
        VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        f12.storageBuffer8BitAccess = VK_TRUE;
        VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
        f11.storageBuffer16BitAccess = VK_TRUE;
        f11.pNext = &f12;
        VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        f2.pNext = &f11;
        // Tensor-core matmul (matmul_coop.comp): the extension and what its SPIR-V declares (Float16,
        // VulkanMemoryModel, CooperativeMatrixNV), only on devices that reported all of it.
        VkPhysicalDeviceCooperativeMatrixFeaturesNV cm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
        const char* coop_ext = VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
        VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
        std::vector<const char*> exts;
        void** tail = &f12.pNext;
        if (use_coop) {
            f12.shaderFloat16 = VK_TRUE;
            f12.vulkanMemoryModel = VK_TRUE;
            cm.cooperativeMatrix = VK_TRUE;
            *tail = &cm;
            tail = &cm.pNext;
            exts.push_back(coop_ext);
        }
        // Integer dot products (matvec_dp.comp): enabled wherever the device has them, so that
        // set_matvec_int_dot can turn them on later.
        VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR idp{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR};
        if (info.int_dot) {
            idp.shaderIntegerDotProduct = VK_TRUE;
            *tail = &idp;
            exts.push_back(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
        }
        dci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
        dci.ppEnabledExtensionNames = exts.empty() ? nullptr : exts.data();
        dci.pNext = &f2;
        dci.queueCreateInfoCount = 1;
        dci.pQueueCreateInfos = &qci;
        check(vkCreateDevice(physical, &dci, nullptr, &device), "creating the Vulkan device");
        vkGetDeviceQueue(device, queue_family, 0, &queue);
        allocator.init(device, physical);

        VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
        pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
        pci.queueFamilyIndex = queue_family;
        check(vkCreateCommandPool(device, &pci, nullptr, &cmd_pool), "creating a command pool");
        VkCommandBuffer cbs[k_op_cmds + 1];
        VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        cai.commandPool = cmd_pool;
        cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        cai.commandBufferCount = k_op_cmds + 1;
        check(vkAllocateCommandBuffers(device, &cai, cbs), "allocating command buffers");
        for (uint32_t i = 0; i < k_op_cmds; ++i) op_cmds[i] = cbs[i];
        cmd = op_cmds[0];
        xfer_cmd = cbs[k_op_cmds];
        VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        check(vkCreateFence(device, &fci, nullptr, &fence), "creating a fence");
        const char* prof = std::getenv("BONSAI_VULKAN_PROFILE");
        if (prof && std::string(prof) == "1" && qf[queue_family].timestampValidBits > 0) {
            VkQueryPoolCreateInfo qpi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
            qpi.queryType = VK_QUERY_TYPE_TIMESTAMP;
            qpi.queryCount = k_max_timestamps;
            check(vkCreateQueryPool(device, &qpi, nullptr, &ts_pool), "creating a query pool");
            ts_period_ns = limits.timestampPeriod;
        }
    } catch (...) {
        release();  // what was created so far (release() tolerates null handles)
        throw;
    }
}

VulkanBackend::Impl::~Impl() { release(); }

void VulkanBackend::Impl::release() {
    if (device) {
        vkDeviceWaitIdle(device);
        staging = VulkanBuffer();
        splitk = VulkanBuffer();
        x16 = VulkanBuffer();
        for (auto& [name, p] : pipelines) {
            vkDestroyPipeline(device, p.pipeline, nullptr);
            vkDestroyPipelineLayout(device, p.layout, nullptr);
            vkDestroyDescriptorSetLayout(device, p.set_layout, nullptr);
            vkDestroyShaderModule(device, p.module, nullptr);
        }
        pipelines.clear();
        for (VkDescriptorPool p : pools) vkDestroyDescriptorPool(device, p, nullptr);
        pools.clear();
        set_cache.clear();
        if (ts_pool) {
            profile_print();
            vkDestroyQueryPool(device, ts_pool, nullptr);
            ts_pool = VK_NULL_HANDLE;
        }
        if (fence) vkDestroyFence(device, fence, nullptr);
        if (cmd_pool) vkDestroyCommandPool(device, cmd_pool, nullptr);
        allocator.destroy();
        vkDestroyDevice(device, nullptr);
        device = VK_NULL_HANDLE;
        fence = VK_NULL_HANDLE;
        cmd_pool = VK_NULL_HANDLE;
    }
    vk_detail::destroy_instance(inst);
}

VulkanBackend::VulkanBackend() : VulkanBackend(Options::from_environment()) {}
VulkanBackend::VulkanBackend(const Options& options) : impl_(std::make_unique<Impl>(options)) {}
VulkanBackend::~VulkanBackend() = default;

const VulkanDeviceInfo& VulkanBackend::device() const { return impl_->info; }
bool VulkanBackend::uses_coop_matmul() const { return impl_->use_coop; }
bool VulkanBackend::uses_matvec_int_dot() const { return impl_->matvec_int_dot != 0; }
void VulkanBackend::set_matvec_int_dot(bool on) {
    if (on && !impl_->info.int_dot)
        throw Error("Vulkan: " + impl_->info.name + " has no integer dot products (shaderIntegerDotProduct)");
    impl_->matvec_int_dot = on ? 1u : 0u;
}
VulkanCopyBandwidth VulkanBackend::measure_copy_bandwidth(size_t bytes, int reps) {
    Impl& m = *impl_;
    if (reps < 1) throw Error("Vulkan bandwidth: at least one timed round is needed");
    // At most an eighth of the largest device-local heap, so that a loaded model still fits beside it.
    VkPhysicalDeviceMemoryProperties mp{};
    vkGetPhysicalDeviceMemoryProperties(m.physical, &mp);
    VkDeviceSize heap = 0;
    for (uint32_t i = 0; i < mp.memoryHeapCount; ++i)
        if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) heap = std::max(heap, mp.memoryHeaps[i].size);
    bytes = std::min<size_t>({bytes, m.limits.maxStorageBufferRange, heap > 0 ? heap / 8 : bytes}) / 16 * 16;
    if (bytes < 4096) throw Error("Vulkan bandwidth: buffers of at least 4 KiB are needed");
    VulkanBuffer x, y;
    for (;;) {  // a smaller pair where the device refuses this one (another process holds its memory)
        try {
            x = create_buffer(bytes, VulkanMemory::DeviceLocal);
            y = create_buffer(bytes, VulkanMemory::DeviceLocal);
            break;
        } catch (const Error&) {
            x = VulkanBuffer();
            y = VulkanBuffer();
            if (bytes < (size_t(32) << 20)) throw;
            bytes = bytes / 2 / 16 * 16;
        }
    }
    const uint64_t words = bytes / 16;
    constexpr uint32_t k_copies_per_thread = 8;  // COPIES in copy_vec4.comp
    const uint64_t groups = (words + 256ull * k_copies_per_thread - 1) / (256ull * k_copies_per_thread);
    struct {
        uint32_t n, stride;
    } pc{static_cast<uint32_t>(words), static_cast<uint32_t>(groups * 256)};
    const auto shader_copy = [&] { m.dispatch("copy_vec4", {&x, &y}, &pc, sizeof pc, groups); };
    const auto transfer_copy = [&] { m.record_copy(x, 0, y, 0, bytes); };

    // Both copies must copy: a pattern in three windows of x (start, middle, end) has to arrive in y.
    const size_t win = std::min<size_t>(64 << 10, bytes / 3 / 16 * 16);
    const size_t at[3] = {0, bytes / 2 / 16 * 16 - win / 2 / 16 * 16, bytes - win};
    std::vector<uint32_t> pattern(win / 4), back(win / 4);
    const auto fill = [&](size_t w, uint32_t salt) {  // window w's pattern (distinct per word, window, way)
        for (size_t i = 0; i < pattern.size(); ++i)
            pattern[i] = static_cast<uint32_t>((at[w] / 4 + i) * 2654435761u) ^ salt ^ static_cast<uint32_t>(w << 28);
    };
    const auto verify = [&](const char* what, const auto& record, uint32_t salt) {
        for (size_t w = 0; w < 3; ++w) {
            fill(w, salt);
            upload(x, at[w], pattern.data(), win);
        }
        begin();
        record();
        submit_and_wait();
        for (size_t w = 0; w < 3; ++w) {
            fill(w, salt);
            download(y, at[w], back.data(), win);
            if (back != pattern)
                throw Error(std::string("Vulkan bandwidth: the ") + what + " copy did not copy bytes " + std::to_string(at[w]) +
                            ".." + std::to_string(at[w] + win) + " of the buffer");
        }
    };
    verify("shader", shader_copy, 0x5a5a5a5au);
    verify("transfer", transfer_copy, 0x3c3c3c3cu);

    // Host-timed submits of k copies each; k copies move 2·k·bytes (a 1 GiB pair: 32 GiB, ~10 ms on an
    // H200, so the submit's own ~50 µs stays below 1 %).
    constexpr int k = 16;
    const auto timed = [&](const auto& record) {
        double best = 0.0;
        for (int rep = 0; rep < reps; ++rep) {
            const auto t0 = std::chrono::steady_clock::now();
            begin();
            for (int i = 0; i < k; ++i) record();
            submit_and_wait();
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            best = std::max(best, 2.0 * static_cast<double>(bytes) * k / s / 1e9);
        }
        return best;
    };
    VulkanCopyBandwidth r;
    r.bytes = bytes;
    r.shader_gb_s = timed(shader_copy);
    r.transfer_gb_s = timed(transfer_copy);
    return r;
}

void VulkanBackend::set_matvec_split_target(uint32_t workgroups) { impl_->matvec_wg_target = workgroups; }
void VulkanBackend::set_matvec_lut(uint32_t rows, uint32_t passes) {
    if (rows != 0 && rows != 4 && rows != 8 && rows != k_matvec_lut_auto)
        throw Error("Vulkan matvec: table rows per team must be 0, 4, 8 or automatic, not " + std::to_string(rows));
    if (passes != 1 && passes != 2 && passes != 4)
        throw Error("Vulkan matvec: table passes must be 1, 2 or 4, not " + std::to_string(passes));
    impl_->matvec_lut_rows = rows;
    impl_->matvec_lut_passes = passes;
}
void VulkanBackend::set_tiled_prompt_attention(bool on) { impl_->tiled_prompt_attention = on; }
void VulkanBackend::set_decode_attention128(bool on) { impl_->decode_attention128 = on; }
bool VulkanBackend::validation_enabled() const { return impl_->validation; }
uint64_t VulkanBackend::validation_messages() const { return impl_->messages.count.load(); }
VulkanStats VulkanBackend::stats() const {
    VulkanStats s = impl_->stats;
    s.device_memory_allocations = impl_->allocator.vk_allocations();
    return s;
}

// ---------------------------------------------------------------- memory

VulkanBuffer VulkanBackend::create_buffer(size_t bytes, VulkanMemory memory) {
    Impl& m = *impl_;
    if (bytes == 0) throw Error("Vulkan: cannot create an empty buffer");
    if (bytes > m.limits.maxStorageBufferRange)
        throw Error("Vulkan: buffer of " + std::to_string(bytes) + " bytes exceeds the device's storage buffer range (" +
                    std::to_string(m.limits.maxStorageBufferRange) + " bytes); split the tensor");
    // Round up to 4 bytes so that whole-buffer bindings and copies stay word sized.
    VkDeviceSize vk_size = (static_cast<VkDeviceSize>(bytes) + 3) / 4 * 4;
    VulkanBuffer out;
    out.impl_ = std::make_unique<VulkanBuffer::Impl>();
    VulkanBuffer::Impl& b = *out.impl_;
    b.size = bytes;
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = vk_size;
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(vkCreateBuffer(m.device, &bci, nullptr, &b.buffer), "creating a buffer");
    b.owner = &m;  // from here on the Impl destructor releases the buffer
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(m.device, b.buffer, &req);
    uint32_t type = memory == VulkanMemory::DeviceLocal
        ? m.allocator.pick_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0)
        : m.allocator.pick_type(req.memoryTypeBits,
                                VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    b.alloc = m.allocator.allocate(req, type);
    check(vkBindBufferMemory(m.device, b.buffer, b.alloc.chunk->memory, b.alloc.offset), "binding buffer memory");
    // A device-local type that is also host visible (integrated GPUs, lavapipe) is still only used
    // through upload/download, so that the code path is the same as on discrete GPUs.
    b.host_visible = memory == VulkanMemory::HostVisible;
    return out;
}

void VulkanBackend::Impl::submit_and_wait(VkCommandBuffer cb) {
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cb;
    check(vkQueueSubmit(queue, 1, &si, fence), "submitting work");
    check(vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX), "waiting for the GPU");
    check(vkResetFences(device, 1, &fence), "resetting a fence");
}

namespace {
void check_range(const VulkanBuffer& b, uint64_t offset, size_t bytes, const char* what) {
    if (!b) throw Error(std::string("Vulkan: ") + what + ": null buffer");
    if (offset > b.size() || bytes > b.size() - offset)
        throw Error(std::string("Vulkan: ") + what + ": range " + std::to_string(offset) + "+" + std::to_string(bytes) +
                    " is outside the buffer of " + std::to_string(b.size()) + " bytes");
}
}  // namespace

void VulkanBackend::upload(VulkanBuffer& dst, uint64_t offset, const void* src, size_t bytes) {
    Impl& m = *impl_;
    check_range(dst, offset, bytes, "upload");
    if (m.recording) throw Error("Vulkan: upload() called while recording");
    if (bytes == 0) return;
    if (dst.host_visible()) {  // coherent mapping: the next submit sees it
        std::memcpy(static_cast<char*>(dst.data()) + offset, src, bytes);
        return;
    }
    if (!m.staging) m.staging = create_buffer(Impl::k_staging_bytes, VulkanMemory::HostVisible);
    const char* p = static_cast<const char*>(src);
    for (size_t done = 0; done < bytes;) {
        size_t n = std::min(bytes - done, Impl::k_staging_bytes);
        std::memcpy(m.staging.data(), p + done, n);
        VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        check(vkBeginCommandBuffer(m.xfer_cmd, &bi), "beginning a transfer");
        VkBufferCopy region{0, offset + done, n};
        vkCmdCopyBuffer(m.xfer_cmd, m.staging.impl_->buffer, dst.impl_->buffer, 1, &region);
        // Make the copy visible to every later shader read (later submissions wait on this one's fence,
        // but memory visibility still needs the barrier).
        VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
        vkCmdPipelineBarrier(m.xfer_cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                             0, nullptr, 0, nullptr);
        check(vkEndCommandBuffer(m.xfer_cmd), "recording a transfer");
        m.submit_and_wait(m.xfer_cmd);
        done += n;
    }
}

void VulkanBackend::download(const VulkanBuffer& src, uint64_t offset, void* dst, size_t bytes) {
    Impl& m = *impl_;
    check_range(src, offset, bytes, "download");
    if (m.recording) throw Error("Vulkan: download() called while recording");
    if (bytes == 0) return;
    if (src.host_visible()) {
        std::memcpy(dst, static_cast<const char*>(src.data()) + offset, bytes);
        return;
    }
    if (!m.staging) m.staging = create_buffer(Impl::k_staging_bytes, VulkanMemory::HostVisible);
    char* p = static_cast<char*>(dst);
    for (size_t done = 0; done < bytes;) {
        size_t n = std::min(bytes - done, Impl::k_staging_bytes);
        VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        check(vkBeginCommandBuffer(m.xfer_cmd, &bi), "beginning a transfer");
        VkMemoryBarrier before{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        before.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
        before.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
        vkCmdPipelineBarrier(m.xfer_cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1,
                             &before, 0, nullptr, 0, nullptr);
        VkBufferCopy region{offset + done, 0, n};
        vkCmdCopyBuffer(m.xfer_cmd, src.impl_->buffer, m.staging.impl_->buffer, 1, &region);
        VkMemoryBarrier after{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        after.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        after.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
        vkCmdPipelineBarrier(m.xfer_cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &after, 0,
                             nullptr, 0, nullptr);
        check(vkEndCommandBuffer(m.xfer_cmd), "recording a transfer");
        m.submit_and_wait(m.xfer_cmd);
        std::memcpy(p + done, m.staging.data(), n);
        done += n;
    }
}

// ---------------------------------------------------------------- recording

void VulkanBackend::begin() {
    Impl& m = *impl_;
    if (m.recording) throw Error("Vulkan: begin() called twice without submit_and_wait()");
    // Sets of destroyed buffers stay allocated until all pools are reset (here, where the GPU is idle):
    // reset once there are many of them, or the cache itself has grown very large.
    if (m.sets_allocated - m.set_cache.size() > Impl::k_max_cached_sets || m.set_cache.size() > 16 * Impl::k_max_cached_sets) {
        for (VkDescriptorPool p : m.pools) check(vkResetDescriptorPool(m.device, p, 0), "resetting a descriptor pool");
        m.set_cache.clear();
        m.pool_index = 0;
        m.sets_in_pool = 0;
        m.sets_allocated = 0;
    }
    m.op_cmd_index = 0;
    m.cmd = m.op_cmds[0];
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(m.cmd, &bi), "beginning a command buffer");
    m.recording = true;
    m.profile_begin();
}

void VulkanBackend::flush() {
    Impl& m = *impl_;
    m.require_recording("flush");
    if (m.op_cmd_index + 1 >= Impl::k_op_cmds) return;  // out of command buffers: keep recording into this one
    // The barrier after every dispatch orders it with later commands in submission order, also those
    // of the next command buffer on the same queue.
    check(vkEndCommandBuffer(m.cmd), "recording commands");
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &m.cmd;
    check(vkQueueSubmit(m.queue, 1, &si, VK_NULL_HANDLE), "submitting work");
    m.cmd = m.op_cmds[++m.op_cmd_index];
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(m.cmd, &bi), "beginning a command buffer");
    ++m.stats.flushes;
}

void VulkanBackend::submit_and_wait() {
    Impl& m = *impl_;
    if (!m.recording) throw Error("Vulkan: submit_and_wait() without begin()");
    m.recording = false;
    // Shader writes -> host reads of HostVisible buffers after the fence.
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(m.cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr,
                         0, nullptr);
    check(vkEndCommandBuffer(m.cmd), "recording commands");
    m.submit_and_wait(m.cmd);
    ++m.stats.submits;
    m.profile_collect();
}

void VulkanBackend::Impl::require_recording(const char* op) const {
    if (!recording) throw Error(std::string("Vulkan: ") + op + " called outside begin()/submit_and_wait()");
}

vk_detail::Pipeline& VulkanBackend::Impl::pipeline(const char* name, uint32_t bindings) {
    auto it = pipelines.find(name);
    if (it != pipelines.end()) return it->second;
    const vk_detail::EmbeddedShader* sh = vk_detail::find_embedded_shader(name);
    if (!sh) throw Error(std::string("Vulkan: shader ") + name + " is not built into this binary");

    vk_detail::Pipeline p;
    p.bindings = bindings;
    try {
        VkShaderModuleCreateInfo mci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
        mci.codeSize = sh->word_count * 4;
        mci.pCode = sh->words;
        check(vkCreateShaderModule(device, &mci, nullptr, &p.module), "creating a shader module");

        VkDescriptorSetLayoutBinding b[k_max_bindings]{};
        for (uint32_t i = 0; i < bindings; ++i) {
            b[i].binding = i;
            b[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            b[i].descriptorCount = 1;
            b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
        }
        VkDescriptorSetLayoutCreateInfo dl{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
        dl.bindingCount = bindings;
        dl.pBindings = b;
        check(vkCreateDescriptorSetLayout(device, &dl, nullptr, &p.set_layout), "creating a descriptor set layout");

        VkPushConstantRange pr{VK_SHADER_STAGE_COMPUTE_BIT, 0, 128};
        VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
        pl.setLayoutCount = 1;
        pl.pSetLayouts = &p.set_layout;
        pl.pushConstantRangeCount = 1;
        pl.pPushConstantRanges = &pr;
        check(vkCreatePipelineLayout(device, &pl, nullptr, &p.layout), "creating a pipeline layout");

        VkComputePipelineCreateInfo cp{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
        cp.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
        cp.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
        cp.stage.module = p.module;
        cp.stage.pName = "main";
        cp.layout = p.layout;
        check(vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &cp, nullptr, &p.pipeline), "creating a compute pipeline");
    } catch (...) {
        if (p.layout) vkDestroyPipelineLayout(device, p.layout, nullptr);
        if (p.set_layout) vkDestroyDescriptorSetLayout(device, p.set_layout, nullptr);
        if (p.module) vkDestroyShaderModule(device, p.module, nullptr);
        throw;
    }
    ++stats.pipelines;
    return pipelines.emplace(name, p).first->second;
}

void VulkanBackend::Impl::dispatch(const char* shader, std::initializer_list<const VulkanBuffer*> buffers,
                                   const void* push, uint32_t push_bytes, uint64_t groups, uint32_t groups_y) {
    require_recording(shader);
    if (groups == 0 || groups_y == 0) return;  // nothing to do (an empty op)
    uint32_t nb = static_cast<uint32_t>(buffers.size());
    if (nb > k_max_bindings) throw Error(std::string("Vulkan: ") + shader + " binds more buffers than the backend supports");
    vk_detail::Pipeline& p = pipeline(shader, nb);

    SetKey key;
    key.layout = p.set_layout;
    {
        uint32_t k = 0;
        for (const VulkanBuffer* b : buffers) key.buffers[k++] = b->impl_->buffer;
    }
    if (auto it = set_cache.find(key); it != set_cache.end()) {
        record_dispatch(shader, p, it->second, push, push_bytes, groups, groups_y);
        return;
    }
    // A new set from the current pool; move on to (or create) the next pool when it is full.
    // The count is tracked here because drivers may silently allow more than maxSets.
    VkDescriptorSet set = VK_NULL_HANDLE;
    for (;;) {
        if (sets_in_pool == k_sets_per_pool) {
            ++pool_index;
            sets_in_pool = 0;
        }
        if (pool_index == pools.size()) {
            VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, k_sets_per_pool * k_max_bindings};
            VkDescriptorPoolCreateInfo pci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
            pci.maxSets = k_sets_per_pool;
            pci.poolSizeCount = 1;
            pci.pPoolSizes = &ps;
            VkDescriptorPool pool = VK_NULL_HANDLE;
            check(vkCreateDescriptorPool(device, &pci, nullptr, &pool), "creating a descriptor pool");
            pools.push_back(pool);
            ++stats.descriptor_pools;
        }
        VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
        ai.descriptorPool = pools[pool_index];
        ai.descriptorSetCount = 1;
        ai.pSetLayouts = &p.set_layout;
        VkResult r = vkAllocateDescriptorSets(device, &ai, &set);
        if (r == VK_SUCCESS) {
            ++sets_in_pool;
            ++sets_allocated;
            ++stats.descriptor_sets;
            break;
        }
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) check(r, "allocating a descriptor set");
        sets_in_pool = k_sets_per_pool;  // full after all: next pool
    }
    VkDescriptorBufferInfo bi[k_max_bindings]{};
    VkWriteDescriptorSet w[k_max_bindings]{};
    uint32_t i = 0;
    for (const VulkanBuffer* b : buffers) {
        bi[i] = VkDescriptorBufferInfo{b->impl_->buffer, 0, VK_WHOLE_SIZE};
        w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        w[i].dstSet = set;
        w[i].dstBinding = i;
        w[i].descriptorCount = 1;
        w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        w[i].pBufferInfo = &bi[i];
        ++i;
    }
    vkUpdateDescriptorSets(device, nb, w, 0, nullptr);
    set_cache.emplace(key, set);
    record_dispatch(shader, p, set, push, push_bytes, groups, groups_y);
}

void VulkanBackend::Impl::forget_buffer(VkBuffer b) {
    for (auto it = set_cache.begin(); it != set_cache.end();) {
        const auto& bufs = it->first.buffers;
        if (std::find(bufs.begin(), bufs.end(), b) != bufs.end())
            it = set_cache.erase(it);  // the set stays allocated in its pool until the next reset
        else
            ++it;
    }
}

void VulkanBackend::Impl::record_dispatch(const char* shader, const vk_detail::Pipeline& p, VkDescriptorSet set,
                                          const void* push, uint32_t push_bytes, uint64_t groups, uint32_t groups_y) {
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
    vkCmdPushConstants(cmd, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);

    const uint64_t max_x = std::min<uint64_t>(limits.maxComputeWorkGroupCount[0], 65535);
    uint64_t gx = groups, gy = groups_y;
    if (groups > max_x) {
        if (groups_y != 1) throw Error(std::string("Vulkan: ") + shader + ": too many workgroups");
        gx = max_x;
        gy = (groups + max_x - 1) / max_x;  // shaders skip the surplus groups of the last row
    }
    if (gy > limits.maxComputeWorkGroupCount[1]) throw Error(std::string("Vulkan: ") + shader + ": tensor too large");
    vkCmdDispatch(cmd, static_cast<uint32_t>(gx), static_cast<uint32_t>(gy), 1);

    // Every op depends on the previous ones: make its writes visible before the next dispatch.
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
    profile_mark(shader, groups_y);
}

void VulkanBackend::Impl::record_copy(const VulkanBuffer& src, uint64_t src_off, const VulkanBuffer& dst,
                                      uint64_t dst_off, uint64_t bytes) {
    // record_dispatch's barrier made shader writes available to later compute work only.
    VkMemoryBarrier before{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    before.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    before.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0,
                         nullptr, 0, nullptr);
    VkBufferCopy region{src_off, dst_off, bytes};
    vkCmdCopyBuffer(cmd, src.impl_->buffer, dst.impl_->buffer, 1, &region);
    VkMemoryBarrier after{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    after.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    after.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                         0, 1, &after, 0, nullptr, 0, nullptr);
    profile_mark("copy", 1);
}

void VulkanBackend::Impl::ensure_splitk() {
    if (splitk) return;
    require_recording("split-K matvec");
    // The same steps as VulkanBackend::create_buffer (device-local, storage + transfer destination).
    VulkanBuffer b;
    {
        const size_t bytes = (size_t(k_split_counters) + k_split_partials) * 4;
        VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        bci.size = bytes;
        bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
        bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        b.impl_ = std::make_unique<VulkanBuffer::Impl>();
        check(vkCreateBuffer(device, &bci, nullptr, &b.impl_->buffer), "creating a buffer");
        b.impl_->owner = this;
        b.impl_->size = bytes;
        VkMemoryRequirements req{};
        vkGetBufferMemoryRequirements(device, b.impl_->buffer, &req);
        b.impl_->alloc = allocator.allocate(req, allocator.pick_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0));
        check(vkBindBufferMemory(device, b.impl_->buffer, b.impl_->alloc.chunk->memory, b.impl_->alloc.offset),
              "binding buffer memory");
    }
    // Counters must start at 0; the partials need no initial value.
    vkCmdFillBuffer(cmd, b.impl_->buffer, 0, VkDeviceSize(k_split_counters) * 4, 0);
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, nullptr,
                         0, nullptr);
    splitk = std::move(b);
}

// ---------------------------------------------------------------- profiling (BONSAI_VULKAN_PROFILE=1)

void VulkanBackend::Impl::profile_begin() {
    if (!ts_pool) return;
    ts_names.clear();
    vkCmdResetQueryPool(cmd, ts_pool, 0, k_max_timestamps);
    vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ts_pool, 0);
}

void VulkanBackend::Impl::profile_mark(const char* shader, uint32_t groups_y) {
    if (!ts_pool || ts_names.size() + 1 >= k_max_timestamps) return;
    const char* tag = profile_tag ? profile_tag : groups_y > 1 ? "batch" : nullptr;
    profile_tag = nullptr;
    ts_names.push_back(std::string(shader) + (tag ? std::string(" [") + tag + "]" : std::string()));
    vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ts_pool, static_cast<uint32_t>(ts_names.size()));
}

void VulkanBackend::Impl::profile_collect() {
    if (!ts_pool || ts_names.empty()) return;
    std::vector<uint64_t> t(ts_names.size() + 1);
    check(vkGetQueryPoolResults(device, ts_pool, 0, static_cast<uint32_t>(t.size()), t.size() * 8, t.data(), 8,
                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
          "reading timestamps");
    for (size_t i = 0; i < ts_names.size(); ++i) {
        auto& e = profile_ns[ts_names[i]];
        e.first += double(t[i + 1] - t[i]) * ts_period_ns;
        e.second += 1;
    }
    ts_names.clear();
}

void VulkanBackend::Impl::profile_print() const {
    double total = 0;
    for (const auto& [name, e] : profile_ns) total += e.first;
    std::fprintf(stderr, "Vulkan GPU time per shader (dispatch + barrier), total %.3f ms:\n", total / 1e6);
    for (const auto& [name, e] : profile_ns)
        std::fprintf(stderr, "  %-28s %9.3f ms %5.1f%% %8llu x %8.2f us\n", name.c_str(), e.first / 1e6,
                     100.0 * e.first / std::max(total, 1.0), static_cast<unsigned long long>(e.second),
                     e.first / 1e3 / double(e.second));
}

}  // namespace bonsai
