#pragma once
// Vulkan compute backend: device selection, buffers, and the ops of a transformer forward pass, each a
// compute shader (engine/backend/vulkan/shaders). No Vulkan types leak into this header, so callers
// need neither the Vulkan headers nor a Vulkan device to compile.
//
// Usage:
//   VulkanBackend vk;                                   // throws bonsai::Error if no usable device
//   VulkanBuffer w = vk.create_buffer(bytes, VulkanMemory::DeviceLocal);
//   vk.upload(w, 0, data, bytes);                       // once, through a staging buffer
//   VulkanBuffer x = vk.create_buffer(n * 4, VulkanMemory::HostVisible);  // x.data() is mapped
//   vk.begin();  vk.matvec(...); vk.rms_norm(...); ...  vk.submit_and_wait();
//
// Ops only RECORD work between begin() and submit_and_wait(); every op waits for the previous one
// (a full compute barrier after each dispatch), so outputs of one op may feed the next. Buffers are
// bound whole; every offset below is in BYTES from the start of the buffer and is passed to the
// shader in push constants (float data needs 4-byte aligned offsets, f16 data 2-byte aligned).
// Offsets and sizes inside one buffer must fit in 32 bits (4 GiB) in this first version.
//
// Not thread-safe: use one VulkanBackend from one thread. Every VulkanBuffer must be destroyed
// before the VulkanBackend that created it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bonsai/tensor_type.h"

namespace bonsai {

// What list_vulkan_devices() reports about one physical device.
struct VulkanDeviceInfo {
    uint32_t index = 0;       // position in the driver's enumeration (what BONSAI_VULKAN_DEVICE=<n> means)
    std::string name;         // "llvmpipe (LLVM 15.0.6, 256 bits)", "NVIDIA H100 80GB HBM3"
    std::string type;         // "discrete", "integrated", "virtual", "cpu", "other"
    uint32_t api_version = 0; // VK_MAKE_API_VERSION encoded
    uint32_t subgroup_size = 0;
    bool suitable = false;    // has everything the backend needs (see why_not otherwise)
    std::string why_not;      // empty when suitable
    // Tensor-core prefill: VK_NV_cooperative_matrix with an (f16, f16, f32) 16x16x16 subgroup shape
    // and what its shader needs (see vulkan_coop_matmul_usable). The backend then uses matmul_coop.comp
    // for matmul unless Options::coop_matmul is off.
    bool coop_matmul = false;
    // Packed 4 x int8 dot products in shaders (Vulkan 1.3's shaderIntegerDotProduct, through
    // VK_KHR_shader_integer_dot_product): the backend can then use matvec_dp.comp (int8 activations).
    bool int_dot = false;
    // ... and the driver reports them accelerated (signed and mixed-signedness 4x8-bit packed).
    bool int_dot_fast = false;
};

// One VkCooperativeMatrixPropertiesNV entry, without Vulkan types (for vulkan_coop_matmul_usable).
struct VulkanCoopShape {
    uint32_t m = 0, n = 0, k = 0;    // MxK A, KxN B, MxN C/D
    bool a_f16 = false, b_f16 = false;  // A/B component type is float16
    bool c_f32 = false, d_f32 = false;  // C/D component type is float32
    bool subgroup_scope = false;        // scope is subgroup
};
// What a device reports about cooperative matrices and the features matmul_coop.comp needs.
struct VulkanCoopSupport {
    bool extension = false;        // VK_NV_cooperative_matrix is in the device's extension list
    bool feature = false;          // VkPhysicalDeviceCooperativeMatrixFeaturesNV::cooperativeMatrix
    bool shader_float16 = false;   // VkPhysicalDeviceVulkan12Features::shaderFloat16 (f16 tiles)
    bool memory_model = false;     // VkPhysicalDeviceVulkan12Features::vulkanMemoryModel (subgroup scope)
    uint32_t subgroup_size = 0;    // the shader assumes 8 subgroups of 32 per 256-thread workgroup
    std::vector<VulkanCoopShape> shapes;
};
// The selection rule of the tensor-core matmul: every flag above, subgroup size 32 and a shape
// 16x16x16 with f16 A/B, f32 C/D at subgroup scope. Pure (unit-tested without such a device).
bool vulkan_coop_matmul_usable(const VulkanCoopSupport& s);

// All physical devices visible through the Vulkan loader. Never throws: returns an empty list when
// there is no loader, no driver or no device.
std::vector<VulkanDeviceInfo> list_vulkan_devices();

// Validation messages (warnings and errors) counted by every VulkanBackend of this process so far,
// including those raised while a backend is being destroyed. 0 when validation was never enabled.
uint64_t vulkan_validation_messages_total();

// Where a buffer lives. DeviceLocal: fast for the GPU, filled with VulkanBackend::upload (weights).
// HostVisible: mapped into our address space (activations in this first version).
enum class VulkanMemory { DeviceLocal, HostVisible };

class VulkanBackend;

// Result of VulkanBackend::measure_copy_bandwidth: read + write bytes per second of a device-local copy.
struct VulkanCopyBandwidth {
    double shader_gb_s = 0.0;    // copy_vec4.comp (16-byte loads and stores, 8 in flight per thread)
    double transfer_gb_s = 0.0;  // vkCmdCopyBuffer (the driver's own copy)
    uint64_t bytes = 0;          // size of each of the two buffers copied
    double best() const { return shader_gb_s > transfer_gb_s ? shader_gb_s : transfer_gb_s; }
};

// Result of VulkanBackend::measure_grid_barrier.
struct VulkanGridBarrierProbe {
    double us_per_round = 0.0;  // wall time of one round (write, grid barrier, read), from two dispatch lengths
    uint64_t mismatches = 0;    // words read after a barrier that did not hold what was written before it
    uint64_t timeouts = 0;      // waits that gave up (not all workgroups resident at once)
};

// Result of VulkanBackend::measure_matvec_chain.
struct VulkanMatvecChainProbe {
    double persistent_us = 0.0;  // per phase: one dispatch, phases separated by grid barriers (matvec_chain.comp)
    double dispatch_us = 0.0;    // per matvec: the backend's own matvec, one dispatch + pipeline barrier each
    double rel_diff_first = 0.0; // relative L2 difference of the two results after the first phase
    double rel_diff_last = 0.0;  // ... and after the last
    uint64_t timeouts = 0;       // grid-barrier waits that gave up
};

// A buffer of device memory. Move-only; frees its memory in the allocator when destroyed.
class VulkanBuffer {
public:
    VulkanBuffer();
    ~VulkanBuffer();
    VulkanBuffer(VulkanBuffer&&) noexcept;
    VulkanBuffer& operator=(VulkanBuffer&&) noexcept;
    VulkanBuffer(const VulkanBuffer&) = delete;
    VulkanBuffer& operator=(const VulkanBuffer&) = delete;

    size_t size() const;          // bytes requested at creation
    bool host_visible() const;
    // Mapped pointer for HostVisible buffers (coherent memory: no flush needed), nullptr otherwise.
    void* data() const;
    explicit operator bool() const { return impl_ != nullptr; }

    struct Impl;  // defined in engine/backend/vulkan
private:
    friend class VulkanBackend;
    std::unique_ptr<Impl> impl_;
};

// A byte offset into a buffer, the way ops name their operands.
struct VulkanRef {
    const VulkanBuffer* buffer = nullptr;
    uint64_t offset = 0;  // bytes
    VulkanRef() = default;
    VulkanRef(const VulkanBuffer& b, uint64_t off = 0) : buffer(&b), offset(off) {}  // NOLINT: implicit on purpose
};

// Rotary embedding pairing. Norm: pairs (x[2i], x[2i+1]) (llama). Neox: pairs (x[i], x[i + n_rot/2])
// (qwen, neox). Pair i rotates by angle pos * freq_base^(-2i / n_rot).
enum class RopeStyle { Norm, Neox };

// Query tokens attending over a KV cache of f16 values (grouped-query attention).
// K element (pos, kv_head, d) is at k + 2 * (pos * k_pos_stride + kv_head * k_head_stride + d) bytes;
// V likewise with its own strides (strides in elements). Query head h uses kv head h / (n_head / n_kv_head).
// With n_tokens > 1 the queries are the last n_tokens positions of the cache, causally masked: query
// token t (0-based) sees positions 0 .. n_kv - n_tokens + t.
struct VulkanAttention {
    uint32_t head_dim = 0;       // D, at most 512
    uint32_t n_head = 0;         // query heads
    uint32_t n_kv_head = 0;      // must divide n_head
    uint32_t n_kv = 0;           // valid cache positions 0..n_kv-1 (all visible to the last query)
    uint32_t k_pos_stride = 0, k_head_stride = 0;
    uint32_t v_pos_stride = 0, v_head_stride = 0;
    float scale = 1.0f;          // usually 1/sqrt(D)
    uint32_t n_tokens = 1;       // query tokens, 1 .. n_kv; q and out hold n_tokens x n_head x head_dim floats
    bool round_q_f16 = false;    // round q to f16 before the K products (what llama.cpp's CPU path does)
    // Split-KV decoding (n_tokens == 1 only; ignored otherwise): with split_len > 0 and more than
    // split_len positions, n_head x ceil(n_kv / split_len) workgroups each take split_len keys and the
    // last of a head's workgroups to finish merges them (a few heads alone would leave most of a GPU
    // idle; the merge needs no second dispatch). `scratch` must
    // hold n_head * ceil(n_kv / split_len) * (head_dim + 2) floats.
    uint32_t split_len = 0;
    VulkanRef scratch;
};

// matvec_fused: transforms of the input applied while the shader reads it (decode-step fusion).
struct VulkanMatvecInput {
    bool rms_norm = false;  // x <- x / sqrt(mean(x^2) + eps) * norm (over the ne0 floats of x)
    VulkanRef norm;         // ne0 floats of norm weights (rms_norm only)
    float eps = 1e-6f;
    bool swiglu = false;    // x[k] <- silu(x[k]) * x[ne0 + k]: x holds 2 * ne0 floats (gate, then up)
    // The input as the matvec that produced it rounded it (VulkanMatvecRounding), read from `rounded_in`
    // instead of x: x is not read, and with rms_norm the producer already applied the norm's weights
    // (`norm` is not read; only the norm's scale is, from the producer's sums of squares). With swiglu,
    // the producer applied it (a gate|up matvec with VulkanMatvecRounding::swiglu): x would hold 2 * ne0
    // floats but is not read either.
    bool rounded = false;
    VulkanRef rounded_in;
    // Rows per lane team of the integer-dot-product matvec: 0 chooses by shape (matvec_dp_rows_per_team);
    // 2, 4 or 8 force it (a decode step whose matvecs share one shader module switches pipelines less
    // often). A rounded output needs at least 4.
    uint32_t rows_per_team = 0;
};

// matvec_fused's output rounded to int8 for the next matvec (decode steps; matvec_dp.comp): the matvec
// that produces a vector writes, besides y, the int8 form of y * norm per 32 values with the sums the next
// matvec needs, so that its workgroups copy the ready words instead of each rounding the floats again.
// See rounding_ok() for when it applies; the next matvec reads it with VulkanMatvecInput::rounded.
struct VulkanMatvecRounding {
    VulkanRef out;                          // rounded_bytes(rows) bytes, 4-aligned (rows / 2 with swiglu)
    VulkanRef norm;                         // the next rms_norm's weights: rows floats (not with swiglu)
    TensorType consumer = TensorType::F32;  // the next matvec's type (the order it stages x in)
    // A gate|up matvec (rows: gate, then up; a multiple of 64) rounds silu(gate) * up for the down
    // projection, which has no norm. Needs a rounded input (the "io" shader modules) and no split-K.
    bool swiglu = false;
};

// qkv_post: what follows the q/k/v projections of n_tokens tokens (one fused dispatch).
struct VulkanQkvPost {
    // qkv_post only: floats from one token's q, k and v to the next token's; 0: packed (n_head * head_dim
    // for q, n_kv_head * head_dim for k and v). A q|k|v matmul over fused weights writes all three at
    // (n_head + 2 * n_kv_head) * head_dim.
    uint32_t token_stride = 0;
    // qkv_post only: where q goes once normalized and rotated (packed: n_tokens x n_head x head_dim
    // floats); no buffer: back where it was read.
    VulkanRef q_out;
    uint32_t head_dim = 0;   // D, even, at most 512
    uint32_t n_head = 0;     // q heads
    uint32_t n_kv_head = 0;  // k and v heads
    uint32_t n_tokens = 1;
    uint32_t n_rot = 0;      // rotated dimensions (even, <= head_dim)
    float freq_base = 10000.0f;
    RopeStyle style = RopeStyle::Norm;
    bool q_norm = false, k_norm = false;  // RMS-normalize q / k heads with the given weights first
    float eps = 1e-6f;
    float freq_scale = 1.0f;  // linear RoPE scaling: every angle times this
    // Llama 3's rope_freqs: the angle of rotated pair i is divided by freq_factors[i] (n_rot / 2 floats;
    // in the buffer of q_norm / k_norm when those are used).
    bool use_freq_factors = false;
    VulkanRef freq_factors;
};

// Counters for tests and diagnostics.
struct VulkanStats {
    uint64_t device_memory_allocations = 0;  // vkAllocateMemory calls so far (grows only when the allocator needs a new chunk)
    uint64_t descriptor_pools = 0;           // pools created so far (grows only when more sets are needed)
    uint64_t descriptor_sets = 0;            // sets allocated and written so far (cached per pipeline layout + buffers)
    uint64_t pipelines = 0;                  // compute pipelines created so far (lazily, on first use of a shader)
    uint64_t submits = 0;                    // submit_and_wait() calls
    uint64_t split_matvecs = 0;              // matvec dispatches recorded with split-K (set_matvec_split_target)
    uint64_t flushes = 0;                    // flush() calls that submitted a command buffer
    uint64_t lut_matvecs = 0;                // Q1_0 / Q2_0 matvec dispatches recorded with the table variant (set_matvec_lut)
    uint64_t tiled_attentions = 0;           // prompt attention dispatches recorded with the tiled shader
    uint64_t decode128_attentions = 0;       // decoding attention dispatches recorded with attention_d128.comp
    uint64_t int_dot_matvecs = 0;            // matvec dispatches recorded with integer dot products (matvec_dp.comp)
    uint64_t rounded_matvecs = 0;            // of those, with a rounded input or output (VulkanMatvecRounding)
};

class VulkanBackend {
public:
    static constexpr uint32_t k_matvec_lut_auto = 1;  // Options::matvec_lut_rows: choose per matrix
    struct Options {
        // Empty: pick the best device (discrete GPU, then integrated, then virtual, then CPU/lavapipe).
        // All digits: index into list_vulkan_devices(). Otherwise: case-insensitive name substring.
        std::string device;
        // Enable VK_LAYER_KHRONOS_validation and count its messages (throws if the layer is missing).
        bool validation = false;
        // Split-K for the low-bit matvec (see set_matvec_split_target); 0 = never split.
        uint32_t matvec_split_target = 1024;
        // Prompt attention (several query tokens) with head_dim 128 through the tiled shader
        // (attention_prompt.comp); false keeps attention.comp for every call (comparisons).
        bool tiled_prompt_attention = true;
        // Decoding attention (one query token) with head_dim 128, 16-byte aligned cache rows and at most 64
        // keys per workgroup through attention_d128.comp (every cache read of a workgroup issued at once);
        // false keeps attention.comp (comparisons).
        bool decode_attention128 = true;
        // Use the tensor-core matmul when the device has it (VulkanDeviceInfo::coop_matmul); false keeps
        // the f32 matmul.comp everywhere (comparisons, diagnostics).
        bool coop_matmul = true;
        // Q1_0 / Q2_0 matvec through code tables (matvec_w.comp, LUT) with this many rows per lane team:
        // 4 or 8, k_matvec_lut_auto (8 for matrices of >= 32M weights, else 4: measured on an H100);
        // 0 keeps the bit-select matvec. Passes of 512 elements per table chunk: 1, 2 or 4.
        uint32_t matvec_lut_rows = k_matvec_lut_auto;
        uint32_t matvec_lut_passes = 2;
        // Tensor-core matmul tiles: 0 = 128 x 64 always, 1 = 128 x 128 always, 2 = 128 x 128 for
        // matrices of >= 16M weights (4096 x 4096; measured on an H100 and an H200), else 128 x 64.
        uint32_t coop_tiles = 2;
        // f16 activations for the tensor-core matmul (converted once per matmul into a backend scratch
        // buffer): 0 = never (the tiles convert f32), 1 = always, 2 = for 128 x 128 tiles (measured on an
        // H100: they gain 14-30 %, the 128 x 64 tiles lose up to 8 %).
        uint32_t coop_x16 = 2;
        // Matvecs of Q1_0, Q2_0, PQ2_0, TQ2_0, Q8_0 and Q4_0 weights with int8-quantized activations and
        // packed integer dot products (matvec_dp.comp): 0 = never, 1 = whenever the device has them
        // (VulkanDeviceInfo::int_dot), 2 = where the driver reports them accelerated (int_dot_fast).
        uint32_t int_dot = 2;
        // Defaults read from BONSAI_VULKAN_DEVICE, BONSAI_VULKAN_VALIDATION=1,
        // BONSAI_VULKAN_MATVEC_WGS (digits: matvec_split_target), BONSAI_VULKAN_TILED_ATTENTION=0,
        // BONSAI_VULKAN_COOP_X16 (0, 1 or 2: coop_x16), BONSAI_VULKAN_COOP_MATMUL=0 and
        // BONSAI_VULKAN_MATVEC_LUT ("0"; rows "4", "8" or "a" (auto), optionally followed by "x" and the
        // passes, e.g. "8x4", "ax1"), BONSAI_VULKAN_COOP_WIDE (0 or 1: coop_tiles) and
        // BONSAI_VULKAN_INT_DOT (0, 1 or 2: int_dot), BONSAI_VULKAN_DECODE_ATTENTION=0.
        static Options from_environment();
    };

    // Opens the device. Throws bonsai::Error with a message naming the cause when no Vulkan loader,
    // driver or suitable device exists (the caller then falls back to the CPU backend).
    VulkanBackend();
    explicit VulkanBackend(const Options& options);
    ~VulkanBackend();
    VulkanBackend(const VulkanBackend&) = delete;
    VulkanBackend& operator=(const VulkanBackend&) = delete;

    const VulkanDeviceInfo& device() const;
    // True when matmul records the tensor-core shader (device().coop_matmul and Options::coop_matmul).
    bool uses_coop_matmul() const;
    // Split-K of the Q1_0/Q2_0/TQ2_0 matvec: a matrix of few rows (fewer than `workgroups` / 1 blocks of
    // 32 rows) is cut along its rows' length into up to 64 slices so that the dispatch has about
    // `workgroups` workgroups; the last workgroup of each row block adds the partial sums (fixed order,
    // so results do not depend on scheduling). 0 turns it off. Affects later recordings only.
    void set_matvec_split_target(uint32_t workgroups);
    // Q1_0 / Q2_0 matvecs (matvec, matvec_fused) through code tables with 4 or 8 rows per 32-lane team
    // (32 or 64 rows per workgroup; k_matvec_lut_auto: per matrix size, see Options) and tables of
    // 1, 2 or 4 x 512 elements; rows 0 selects the
    // bit-select shader. Weights at an odd byte offset always take the bit-select shader. Other
    // values throw bonsai::Error. Affects later recordings.
    void set_matvec_lut(uint32_t rows, uint32_t passes);
    // Integer-dot-product matvecs on or off (Options::int_dot 1 / 0); throws bonsai::Error when turning
    // them on on a device without them. Affects later recordings.
    void set_matvec_int_dot(bool on);
    bool uses_matvec_int_dot() const;
    // Prompt attention through the tiled shader where it applies (Options::tiled_prompt_attention).
    // Affects later recordings.
    void set_tiled_prompt_attention(bool on);
    // Decoding attention through attention_d128.comp where it applies (Options::decode_attention128).
    void set_decode_attention128(bool on);
    bool validation_enabled() const;
    // Device memory bandwidth for rooflines: copies between two device-local buffers of `bytes` each
    // (clamped to the device's storage buffer range and to an eighth of its largest device-local heap;
    // halved down to 16 MiB while the device refuses the memory), read + write GB/s of the best of `reps`
    // submits of 16 copies, through copy_vec4.comp and through vkCmdCopyBuffer. Each way is first checked
    // to copy (a pattern in three windows); throws bonsai::Error when one does not, and for buffers under
    // 4 KiB. Opens and ends its own recordings.
    VulkanCopyBandwidth measure_copy_bandwidth(size_t bytes, int reps = 3);
    // Cost of a grid-wide barrier inside one dispatch (shaders/grid_barrier.comp): `groups` workgroups of
    // 256 threads meet `rounds` times at an atomic arrival counter, writing a word each before and reading
    // a neighbour's after. A diagnostic for the persistent-kernel design (docs/vulkan.md); it is not used by
    // the forward pass. Waits give up after `spin_limit` polls, so groups that cannot all be resident at
    // once report timeouts instead of hanging. Opens and ends its own recordings.
    VulkanGridBarrierProbe measure_grid_barrier(uint32_t groups, uint32_t rounds, uint32_t spin_limit = 20000);
    // A persistent-kernel probe: `phases` dependent 4096 x 4096 Q1_0 matvecs (random weights) in one dispatch
    // of `groups` workgroups separated by grid barriers (shaders/matvec_chain.comp; `flags` bit 0: each
    // workgroup loads its next codes before the barrier; bit 1: each phase's producers round the next
    // input to int8 once, instead of every workgroup of the next phase; bit 2: the same shader one phase
    // per dispatch, no grid barrier), against the same chain as `phases` matvec() dispatches. Needs integer dot products (VulkanDeviceInfo::int_dot). A diagnostic; opens and
    // ends its own recordings.
    VulkanMatvecChainProbe measure_matvec_chain(uint32_t phases, uint32_t groups, uint32_t flags, uint32_t spin_limit = 20000);
    // Validation-layer (and loader) messages of severity warning or error seen so far; each one is
    // also printed to stderr. Tests assert this stays 0.
    uint64_t validation_messages() const;
    VulkanStats stats() const;

    // ---- memory ----
    VulkanBuffer create_buffer(size_t bytes, VulkanMemory memory);
    // Copies host bytes into a buffer (any kind) through the staging buffer; waits for completion.
    // Must not be called between begin() and submit_and_wait().
    void upload(VulkanBuffer& dst, uint64_t offset, const void* src, size_t bytes);
    void download(const VulkanBuffer& src, uint64_t offset, void* dst, size_t bytes);

    // ---- recording ----
    void begin();            // starts a command buffer (throws if one is already open)
    void submit_and_wait();  // submits it, waits for the GPU; HostVisible outputs are then readable
    // Submits what was recorded so far without waiting and continues the recording in a new command
    // buffer, so that the GPU starts while the rest is recorded (ordering is as without the flush;
    // up to 15 flushes per recording take effect, later ones are ignored).
    void flush();

    // Tensor types the weight ops accept.
    static bool supports_matvec(TensorType t);  // F32 F16 BF16 Q8_0 Q4_0 Q4_K Q6_K Q1_0 Q2_0 PQ2_0 PTQ1_0 TQ1_0 TQ2_0 I2_S
    static bool supports_matmul(TensorType t);  // same set

    // y[r] = sum_k W[r][k] * x[k], r < rows. W: `rows` rows of ne0 elements of type t in the GGUF block
    // layout, rows contiguous (row_nbytes apart); x: ne0 float; y: rows float. With accumulate,
    // y[r] += ... instead (a residual add fused into the projection; y must not overlap x). I2_S: `w` is
    // the whole tensor, its float32 scale right after the last row (as in the file).
    void matvec(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, VulkanRef x, VulkanRef y,
                bool accumulate = false);
    // Rows per 32-lane team of the integer-dot-product matvec (matvec_dp.comp) for a matrix of `rows`
    // rows of ne0 weights: 2, 4 or 8 (8 teams per workgroup); measured on an H100.
    static uint32_t matvec_dp_rows_per_team(uint32_t ne0, uint32_t rows);
    // Whether a matrix of type t (ne0 x rows) takes the integer-dot-product matvec when the driver calls
    // the packed dot products accelerated (the default; forced on, every integer-dot-product type does):
    // Q1_0 only from 4096 x 4096 (elsewhere its table matvec is faster), the other types always.
    static bool matvec_dp_auto(TensorType t, uint32_t ne0, uint32_t rows);
    // Types whose matvec accepts input transforms (matvec_fused): Q1_0 Q2_0 PQ2_0 TQ2_0 (I2_S: none).
    static bool supports_fused_matvec(TensorType t);
    // Whether matvec_fused takes an input transform for weights of type t at w with the current settings:
    // supports_fused_matvec(t), or, while integer dot products are on (uses_matvec_int_dot), Q8_0 and
    // Q4_0 at an even byte offset.
    bool fused_matvec_ok(TensorType t, VulkanRef w) const;
    // matvec of a transformed input (see VulkanMatvecInput); throws for other types (while integer dot
    // products are on, uses_matvec_int_dot(), Q8_0 and Q4_0 at even byte offsets are accepted too). y
    // must not overlap x (or the norm weights).
    // With `round`, the output is also rounded for the next matvec (VulkanMatvecRounding); not together
    // with in.rms_norm unless in.rounded too; in.rounded_in and round->out then share a buffer.
    void matvec_fused(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, VulkanRef x, VulkanRef y,
                      const VulkanMatvecInput& in, bool accumulate = false, const VulkanMatvecRounding* round = nullptr);
    // Whether a matvec of type t (weights at w, ne0 x rows) can round its output for a matvec of type
    // `consumer` (weights at cw, rows x consumer_rows) whose whole input it is: both run the
    // integer-dot-product matvec (not I2_S), rows is a multiple of 32 and at most 4096 (the consumer
    // stages its input in one chunk).
    bool rounding_ok(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, TensorType consumer, VulkanRef cw,
                     uint32_t consumer_rows) const;
    // The two halves of rounding_ok: whether a matvec of type t (ne0 x rows at w) can round its output
    // (rows a multiple of 32), and whether one can read a rounded input (ne0 a multiple of 32; with
    // rms_norm at most 4096: its norm needs the whole row in one chunk).
    bool rounded_output_ok(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows) const;
    bool rounded_input_ok(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, bool rms_norm) const;
    // Bytes of a rounded vector of n values (n a multiple of 32): n int8 values, n/32 scales, n/16 sums
    // of q, n/32 sums of squares.
    static uint64_t rounded_bytes(uint32_t n) { return uint64_t(n) / 8 * 3 * 4; }
    // Y[c][r] = sum_k W[r][k] * X[c][k] for c < ncols (columns = tokens, each contiguous): X is ncols
    // x ne0 floats, Y is ncols x rows floats.
    // x_f16: X is ncols x ne0 halves instead (16-byte aligned offset), allowed only where
    // matmul_reads_f16() says the tiles read f16: they then take it as it is, with no conversion dispatch.
    void matmul(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, VulkanRef x, uint32_t ncols,
                VulkanRef y, bool x_f16 = false);
    // True when matmul() of this shape runs the tensor-core tiles that read X as f16 (matmul_coop.comp
    // -DXF16; otherwise it converts f32 X first). Producers can then write f16 for it (add_rms_norm,
    // swiglu with y_f16).
    bool matmul_reads_f16(TensorType t, uint32_t ne0, uint32_t rows, uint32_t ncols) const;

    // y[r][i] = x[r][i] / sqrt(mean_i(x[r][i]^2) + eps) * weight[i] for nrows rows of n floats.
    // With quantize_i8, y is then rounded per row as quantize_i8() does (one dispatch for both).
    void rms_norm(VulkanRef x, VulkanRef weight, VulkanRef y, uint32_t n, uint32_t nrows, float eps,
                  bool quantize_i8 = false);
    // A prompt's residual add and the next norm in one dispatch: for nrows rows of n floats (n even),
    // with `add` x <- x + add first (written back), then y = rms_norm(x) * weight as rms_norm(); y_f16:
    // y is stored as n halves per row (round to nearest even), for matmul(..., x_f16).
    void add_rms_norm(VulkanRef x, const VulkanRef* add, VulkanRef weight, VulkanRef y, uint32_t n, uint32_t nrows,
                      float eps, bool y_f16);
    // Rotates x laid out [n_tokens][n_heads][head_dim] in place by positions[t] (int32 per token).
    // Dimensions >= n_rot are left unchanged. n_rot even, <= head_dim.
    void rope(VulkanRef x, VulkanRef positions, uint32_t head_dim, uint32_t n_heads, uint32_t n_tokens,
              uint32_t n_rot, float freq_base, RopeStyle style);
    // y[r] = softmax(scale * x[r]) over rows of n floats (y may equal x).
    void softmax(VulkanRef x, VulkanRef y, uint32_t n, uint32_t nrows, float scale);
    // y = silu(gate) * up, n floats; with squared_relu y = max(gate, 0)^2 * up (BitNet b1.58's FFN).
    // y_f16: y is stored as n halves (n even; round to nearest even), for matmul(..., x_f16).
    void swiglu(VulkanRef gate, VulkanRef up, VulkanRef y, uint32_t n, bool squared_relu = false, bool y_f16 = false);
    // BitNet b1.58's per-token int8 activation quantization, as floats: per row of n, g = max(max |x|,
    // 1e-5) and y = clamp(roundEven(x 127 / g), -128, 127) g / 127 (y may equal x). The I2_S
    // projections' inputs go through it, so their products match the fork's integer ones.
    void quantize_i8(VulkanRef x, VulkanRef y, uint32_t n, uint32_t nrows);
    // y[i] = a[i] + b[i % nb] and y[i] = a[i] * b[i % nb]; nb = 0 means nb = n (nb must divide n).
    void add(VulkanRef a, VulkanRef b, VulkanRef y, uint32_t n, uint32_t nb = 0);
    void mul(VulkanRef a, VulkanRef b, VulkanRef y, uint32_t n, uint32_t nb = 0);
    // y = s * x, n floats.
    void scale(VulkanRef x, VulkanRef y, uint32_t n, float s);
    // Copies `bytes` bytes (a multiple of 4) from src to dst with the transfer engine (e.g. device-local
    // results into a HostVisible buffer: one DMA instead of a shader's scattered writes over the bus).
    // Ordered after the ops recorded before it and before the ones after it.
    void copy(VulkanRef src, VulkanRef dst, uint64_t bytes);
    // out[t][h] = sum_j softmax_j(scale * q[t][h].K[j]) V[j] over the positions j visible to query token t
    // (see VulkanAttention); q and out: n_tokens x n_head x head_dim floats.
    void attention(VulkanRef q, VulkanRef k_cache, VulkanRef v_cache, VulkanRef out, const VulkanAttention& p);
    // One decode token's qkv_post and attention in one dispatch: q, k, v are the token's raw projections
    // (one buffer, as for qkv_post), normalized and rotated at position `pos`; k and v are stored as
    // f16 into the caches at position a.n_kv - 1 (the caches' layout as for attention: bases k_cache /
    // v_cache, strides from `a`) and take part in the attention as that position. Equivalent to
    // qkv_post(...) + attention(...) with n_tokens = 1; post and a must agree on the shapes.
    void attention_decode(VulkanRef q, VulkanRef k, VulkanRef v, VulkanRef q_norm, VulkanRef k_norm, int32_t pos,
                          VulkanRef k_cache, VulkanRef v_cache, VulkanRef out, const VulkanQkvPost& post,
                          const VulkanAttention& a);
    // For each token t and head: q[t][h] = rope(rms_norm(q[t][h]) * q_norm) in place or into p.q_out
    // (norm only when p.q_norm), k likewise with k_norm, then f16(k[t]) -> k_cache row t and f16(v[t]) ->
    // v_cache row t (rows of n_kv_head * head_dim halves, 4-byte aligned). q, k, v: [n_tokens][heads]
    // [head_dim] floats (tokens p.token_stride floats apart when set), all three in ONE buffer (q_out in
    // another); q_norm and k_norm (head_dim floats each) in one buffer too
    // (ignored when unused). Equivalent to rms_norm + rope + f32_to_f16, in one dispatch.
    void qkv_post(VulkanRef q, VulkanRef k, VulkanRef v, VulkanRef q_norm, VulkanRef k_norm, VulkanRef positions,
                  VulkanRef k_cache, VulkanRef v_cache, const VulkanQkvPost& p);
    // Rounds n floats to f16 (round to nearest even) and stores them at y (KV cache writes). n must be
    // even and y 4-byte aligned: the shader writes pairs of halves as one 32-bit word.
    void f32_to_f16(VulkanRef x, VulkanRef y, uint32_t n);

    struct Impl;  // defined in engine/backend/vulkan
private:
    struct AttentionFusion {  // attention_decode's part of an attention dispatch
        const VulkanQkvPost* post = nullptr;
        VulkanRef k, v, q_norm, k_norm;
        int32_t pos = 0;
    };
    void record_attention(const char* op, VulkanRef q, VulkanRef k_cache, VulkanRef v_cache, VulkanRef out,
                          const VulkanAttention& p, const AttentionFusion* fusion);
    std::unique_ptr<Impl> impl_;
};

}  // namespace bonsai
