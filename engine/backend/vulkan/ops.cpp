// Op recording: argument checks (every shader access must stay inside its buffer, because robust
// buffer access is not enabled) and push-constant packing. The math lives in shaders/*.comp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "backend/vulkan/backend_impl.h"
#include "bonsai/error.h"

namespace bonsai {

namespace {

[[noreturn]] void fail(const char* op, const std::string& why) { throw Error(std::string("Vulkan ") + op + ": " + why); }

// Checks that `ref` holds `bytes` bytes at an offset aligned to `align`, and returns offset / unit
// as a 32-bit shader index.
uint32_t index_of(const char* op, const char* name, VulkanRef ref, uint64_t bytes, uint32_t unit) {
    if (!ref.buffer || !*ref.buffer) fail(op, std::string(name) + " has no buffer");
    const uint64_t size = ref.buffer->size();
    if (ref.offset % unit != 0) fail(op, std::string(name) + " offset " + std::to_string(ref.offset) + " is not " + std::to_string(unit) + "-byte aligned");
    if (ref.offset > size || bytes > size - ref.offset)
        fail(op, std::string(name) + " needs " + std::to_string(bytes) + " bytes at offset " + std::to_string(ref.offset) +
                     " but the buffer has " + std::to_string(size));
    if ((ref.offset + bytes) / unit > 0xffffffffull) fail(op, std::string(name) + " lies beyond 4 GiB of its buffer");
    return static_cast<uint32_t>(ref.offset / unit);
}

uint64_t floats(uint64_t n) { return n * 4; }

const char* type_suffix(TensorType t) {
    switch (t) {
    case TensorType::F32: return "f32";
    case TensorType::F16: return "f16";
    case TensorType::BF16: return "bf16";
    case TensorType::Q8_0: return "q8_0";
    case TensorType::Q4_0: return "q4_0";
    case TensorType::Q4_K: return "q4_k";
    case TensorType::Q6_K: return "q6_k";
    case TensorType::Q1_0: return "q1_0";
    case TensorType::Q2_0: return "q2_0";
    case TensorType::PQ2_0: return "pq2_0";
    case TensorType::PTQ1_0: return "ptq1_0";
    case TensorType::TQ1_0: return "tq1_0";
    case TensorType::TQ2_0: return "tq2_0";
    case TensorType::I2_S: return "i2_s";
    default: return nullptr;
    }
}

// Weight operand: base index and row stride in the unit the shader uses (elements for F32/F16, bytes otherwise).
struct WeightArgs {
    uint32_t base = 0;
    uint32_t row_stride = 0;
};

WeightArgs weight_args(const char* op, TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows) {
    if (!type_suffix(t)) fail(op, std::string("tensor type ") + tensor_type_name(t) + " is not supported yet");
    if (ne0 == 0) fail(op, "ne0 is 0");
    const uint64_t row_bytes = row_nbytes(t, ne0);  // throws when ne0 is not a whole number of blocks
    const uint32_t unit = t == TensorType::F32 ? 4 : t == TensorType::F16 || t == TensorType::BF16 ? 2 : 1;
    // I2_S: the tensor's float32 scale follows its last row (the shader reads it there).
    const uint64_t tail = t == TensorType::I2_S ? 4 : 0;
    WeightArgs a;
    a.base = index_of(op, "weights", w, row_bytes * rows + tail, unit);
    a.row_stride = static_cast<uint32_t>(row_bytes / unit);
    return a;
}

}  // namespace

bool VulkanBackend::supports_matvec(TensorType t) { return type_suffix(t) != nullptr; }
bool VulkanBackend::supports_matmul(TensorType t) { return type_suffix(t) != nullptr; }

namespace {
// Types with the word-decoding and table matvecs (matvec_w.comp).
bool word_type(TensorType t) {
    return t == TensorType::Q1_0 || t == TensorType::Q2_0 || t == TensorType::PQ2_0 || t == TensorType::TQ2_0 ||
           t == TensorType::I2_S;
}
// Types of the integer-dot-product matvec (matvec_dp.comp) under Impl::matvec_int_dot's mode. Q1_0
// by default only on 4096 x 4096 and larger (matvec_dp_auto; every shape when forced, mode 1): its 1-bit
// codes cost a shift and a mask per 4 weights to spread into bytes, and on an H100 (rows per team by matrix) it won on the 4096-wide rows (4096 x 24576 18.6 us
// against the table's 21.4, 4096 x 151936 82.5 against 100.7) but lost on the 2048-wide ones (2048 x
// 151936 76 against 62; a row of 16 blocks leaves half a team idle) and in the models: 8B decode 316-321
// against 326-329 tok/s, 1.7B 519 against 578-581. TQ2_0 gained 1.3-1.7x, Q8_0 1.1-2.3x, I2_S 1.1-1.5x
// over their previous matvecs; TQ1_0 (session 10: base-3 digits decoded 4 at a time in 16-bit lanes)
// 2.4x in the 1.7B decode (164 -> 389-411 tok/s) and 3.4x in the 8B (58 -> 194-196) against matvec.comp.
// Session 11: with the residual stream rounded by its producers (VulkanMatvecRounding), Q1_0 on the 8B
// shapes gained too: 8B decode 325-354 against the table's 299-327 tok/s (three alternations), hence
// matvec_dp_auto's shape rule.
bool dp_type(TensorType t, uint32_t mode) {
    if (mode == 0) return false;
    return t == TensorType::Q1_0 || t == TensorType::Q2_0 || t == TensorType::PQ2_0 || t == TensorType::PTQ1_0 ||
           t == TensorType::TQ1_0 || t == TensorType::TQ2_0 || t == TensorType::Q8_0 || t == TensorType::Q4_0 ||
           t == TensorType::I2_S;
}
// Whether weights of type t at w run matvec_dp.comp: its type under the mode, at an even byte offset
// (it reads 16-bit scales; every block of its types has an even size, so every row starts even too).
bool dp_usable(TensorType t, uint32_t mode, VulkanRef w) { return dp_type(t, mode) && w.offset % 2 == 0; }
// ... and of that shape (mode 2, the default: matvec_dp_auto).
bool dp_usable(TensorType t, uint32_t mode, VulkanRef w, uint32_t ne0, uint32_t rows) {
    return dp_usable(t, mode, w) && (mode == 1 || VulkanBackend::matvec_dp_auto(t, ne0, rows));
}
}  // namespace

bool VulkanBackend::matvec_dp_auto(TensorType t, uint32_t ne0, uint32_t rows) {
    return t != TensorType::Q1_0 || (ne0 >= 4096 && rows >= 4096);
}

uint32_t VulkanBackend::matvec_dp_rows_per_team(uint32_t ne0, uint32_t rows) {
    // H100, TQ2_0 and Q4_0 (bonsai-vulkan-bench ops, us, 2 / 4 / 8 rows per team): 2048 x 2048 7.5 /
    // 8.5 / 11.7, 6144 x 2048 10.4 / 12.1 / 16.5, 4096 x 4096 9.2 / 9.4 / 11.5, 12,288 x 4096 (split-K)
    // 21.2 / 15.2 / 16.5, 4096 x 24,576 31.8 / 22.1 / 19.3, 4096 x 151,936 158 / 107 / 94: fewer rows
    // per workgroup pay off only while there are few weights, more rows only with many rows; 8B TQ2_0
    // decode 225 / 286 / 297 tok/s with one size for all.
    if (rows >= 16384) return 8;
    if (uint64_t(ne0) * rows < (16u << 20)) return 2;
    return 4;
}

// I2_S multiplies int8-quantized inputs (quantize_i8), which a norm or SwiGLU inside the matvec would skip.
bool VulkanBackend::supports_fused_matvec(TensorType t) { return word_type(t) && t != TensorType::I2_S; }

bool VulkanBackend::fused_matvec_ok(TensorType t, VulkanRef w) const {
    return supports_fused_matvec(t) || (t != TensorType::I2_S && dp_usable(t, impl_->matvec_int_dot, w));
}

namespace {
// K slices of a matvec_w dispatch (see matvec_w.comp): enough to give about `target` workgroups,
// each slice a whole number of the shader's 2048-element x chunks, at most 64 slices, and within the
// scratch's counters and partials. Only rows of 3 chunks or more are split: on an H100 splitting the
// 2048/4096-wide rows of q|k|v, output and gate|up made them slower (the per-workgroup costs -- the
// fused rms_norm pass over the whole row, staging, the partials -- then outweigh the occupancy
// gained), while the 6144/12288-wide down projections got 1.25-1.35x faster.
struct MatvecSplit {
    uint32_t slice_words = 0;
    uint32_t splits = 1;
};
// k_chunk: the shader's x chunk (XC: matvec_w.comp 2048, matvec_dp.comp 4096); epw: elements per unit
// of pc.slice_words (matvec_w.comp: weights per word of codes; matvec_dp.comp: 16).
MatvecSplit matvec_split(uint32_t k_chunk, uint32_t epw, uint32_t ne0, uint32_t rows, uint32_t rows_per_wg,
                         uint32_t target) {
    const uint32_t words = ne0 / epw, chunk_words = k_chunk / epw;
    MatvecSplit s;
    s.slice_words = words;
    const uint64_t row_blocks = (uint64_t(rows) + rows_per_wg - 1) / rows_per_wg;
    if (target == 0 || ne0 < 3 * k_chunk || row_blocks >= target || row_blocks > VulkanBackend::Impl::k_split_counters)
        return s;
    uint64_t want = (target + row_blocks - 1) / row_blocks;
    want = std::min<uint64_t>({want, words / chunk_words, 64,
                               VulkanBackend::Impl::k_split_partials / std::max<uint32_t>(rows, 1)});
    if (want <= 1) return s;
    const uint32_t per = static_cast<uint32_t>((words + want - 1) / want);
    s.slice_words = (per + chunk_words - 1) / chunk_words * chunk_words;
    s.splits = (words + s.slice_words - 1) / s.slice_words;
    if (s.splits <= 1) s.slice_words = words, s.splits = 1;
    return s;
}
}  // namespace

void VulkanBackend::matvec(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, VulkanRef x, VulkanRef y,
                           bool accumulate) {
    if (word_type(t) || dp_usable(t, impl_->matvec_int_dot, w)) {
        matvec_fused(t, w, ne0, rows, x, y, VulkanMatvecInput{}, accumulate);
        return;
    }
    const char* op = "matvec";
    impl_->require_recording(op);
    struct {
        uint32_t w_base, row_stride, ne0, rows, x_off, y_off, accumulate;
    } pc{};
    WeightArgs wa = weight_args(op, t, w, ne0, rows);
    pc.w_base = wa.base;
    pc.row_stride = wa.row_stride;
    pc.ne0 = ne0;
    pc.rows = rows;
    pc.x_off = index_of(op, "x", x, floats(ne0), 4);
    pc.y_off = index_of(op, "y", y, floats(rows), 4);
    pc.accumulate = accumulate ? 1u : 0u;
    std::string shader = std::string("matvec_") + type_suffix(t);
    // matvec.comp: 4 rows per workgroup (RPW).
    impl_->dispatch(shader.c_str(), {w.buffer, x.buffer, y.buffer}, &pc, sizeof pc, (uint64_t(rows) + 3) / 4);
}

bool VulkanBackend::rounding_ok(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, TensorType consumer, VulkanRef cw,
                                uint32_t consumer_rows) const {
    return rounded_output_ok(t, w, ne0, rows) && rounded_input_ok(consumer, cw, rows, consumer_rows, true);
}

bool VulkanBackend::rounded_output_ok(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows) const {
    return dp_usable(t, impl_->matvec_int_dot, w, ne0, rows) && t != TensorType::I2_S && rows % 32 == 0 && rows > 0;
}

bool VulkanBackend::rounded_input_ok(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, bool rms_norm) const {
    return dp_usable(t, impl_->matvec_int_dot, w, ne0, rows) && t != TensorType::I2_S && ne0 % 32 == 0 && ne0 > 0 &&
           (!rms_norm || ne0 <= 4096);
}

namespace {
// The element order a rounded vector is written in for a consumer of type t (xelem_of in matvec_dp.comp):
// 1 Q1_0, 2 Q2_0 / PQ2_0, 0 the natural order.
uint32_t rounded_order(TensorType t) {
    return t == TensorType::Q1_0 ? 1u : t == TensorType::Q2_0 || t == TensorType::PQ2_0 ? 2u : 0u;
}
}  // namespace

void VulkanBackend::matvec_fused(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, VulkanRef x, VulkanRef y,
                                 const VulkanMatvecInput& in, bool accumulate, const VulkanMatvecRounding* round) {
    const char* op = "matvec";
    impl_->require_recording(op);
    // Integer dot products (matvec_dp.comp: 8 teams of 2, 4 or 8 rows per workgroup).
    const bool dp = dp_usable(t, impl_->matvec_int_dot, w, ne0, rows);
    if (!dp && !word_type(t) && dp_type(t, impl_->matvec_int_dot))
        fail(op, std::string("no matvec for type ") + tensor_type_name(t) + " at an odd byte offset");
    if ((!word_type(t) && !dp) || (!fused_matvec_ok(t, w) && (in.rms_norm || in.swiglu)))
        fail(op, std::string("no fused matvec for type ") + tensor_type_name(t));
    struct {
        uint32_t w_base, row_stride, ne0, rows, x_off, y_off, mode, nw_off;
        float eps;
        uint32_t slice_words, splits, q_off, q_order, q_in;
    } pc{};
    WeightArgs wa = weight_args(op, t, w, ne0, rows);
    pc.w_base = wa.base;
    pc.row_stride = wa.row_stride;
    pc.ne0 = ne0;
    pc.rows = rows;
    // A rounded input replaces x (which is then bound but not read; x_off stays 0).
    if (!x.buffer || !*x.buffer) fail(op, "x has no buffer");
    if (!in.rounded) pc.x_off = index_of(op, "x", x, floats(uint64_t(ne0) * (in.swiglu ? 2 : 1)), 4);
    pc.y_off = index_of(op, "y", y, floats(rows), 4);
    // (A rounded input has had its SwiGLU applied by its producer: no mode bit 2.)
    pc.mode = (accumulate ? 1u : 0u) | (in.rms_norm ? 2u : 0u) | (in.swiglu && !in.rounded ? 4u : 0u);
    if (in.rms_norm && !in.rounded) pc.nw_off = index_of(op, "norm", in.norm, floats(ne0), 4);
    pc.eps = in.eps;
    // matvec_w.comp: 8 teams x R rows per workgroup (R = 4; the table variant: 4 or 8). Without a norm
    // its binding 3 gets x (never read). The table variant reads 16-bit halves: even offsets only.
    const VulkanBuffer* nb = in.rms_norm && !in.rounded ? in.norm.buffer : x.buffer;
    // Rounded input / output (binding 5 of matvec_dp.comp's ROUNDED_IN / ROUNDED_OUT variants).
    const VulkanBuffer* qb = x.buffer;
    if ((in.rounded || round) && (!dp || t == TensorType::I2_S))
        fail(op, std::string("no rounded input or output for type ") + tensor_type_name(t));
    if (in.rounded) {
        if (ne0 % 32 != 0 || (in.rms_norm && ne0 > 4096))
            fail(op, "a rounded input needs ne0 a multiple of 32 (with rms_norm at most 4096)");
        pc.q_in = index_of(op, "rounded input", in.rounded_in, rounded_bytes(ne0), 4);
        qb = in.rounded_in.buffer;
    }
    if (round) {
        if ((in.rms_norm && !in.rounded) || rows % 32 != 0)
            fail(op, "a rounded output needs rows a multiple of 32 and no rms_norm input unless it is rounded too");
        if (!dp_type(round->consumer, impl_->matvec_int_dot) || round->consumer == TensorType::I2_S)
            fail(op, std::string("no rounded input for type ") + tensor_type_name(round->consumer));
        if (in.rounded && round->out.buffer != in.rounded_in.buffer)
            fail(op, "a rounded input and a rounded output must share one buffer");
        if (round->swiglu) {
            if (!in.rounded || rows % 64 != 0 || accumulate)
                fail(op, "a SwiGLU-rounded output needs a rounded input, rows a multiple of 64 and no accumulation");
            pc.q_off = index_of(op, "rounded output", round->out, rounded_bytes(rows / 2), 4);
            pc.mode |= 8u;
        } else {
            pc.q_off = index_of(op, "rounded output", round->out, rounded_bytes(rows), 4);
            pc.nw_off = index_of(op, "next norm", round->norm, floats(rows), 4);
            nb = round->norm.buffer;
        }
        pc.q_order = rounded_order(round->consumer);
        qb = round->out.buffer;
    }
    // (I2_S passes are two 128-weight blocks: rows of whole passes only.)
    uint32_t lut = !dp && wa.base % 2 == 0 && wa.row_stride % 2 == 0 && (t != TensorType::I2_S || ne0 % 256 == 0)
                       ? impl_->matvec_lut_rows : 0;
    // Automatic: 8 rows per team (fewer table builds per weight) where the matrix gives enough
    // workgroups anyway; on an H100, 4096x24576 and 12288x4096 gained 15 %, 4096x6144 lost 10 %.
    if (lut == VulkanBackend::k_matvec_lut_auto) lut = uint64_t(ne0) * rows >= (32u << 20) ? 8 : 4;
    // The table of p passes takes 8 KiB * p of shared memory (all the shader uses): fewer passes on
    // devices that offer less.
    uint32_t passes = impl_->matvec_lut_passes;
    while (passes > 1 && 8192u * passes > impl_->limits.maxComputeSharedMemorySize) passes /= 2;
    // A rounded output needs whole blocks of 32 rows per workgroup: at least 4 rows per team.
    if (in.rows_per_team != 0 && in.rows_per_team != 2 && in.rows_per_team != 4 && in.rows_per_team != 8)
        fail(op, "rows per team must be 2, 4 or 8");
    const uint32_t dp_rows =
        dp ? std::max<uint32_t>(in.rows_per_team ? in.rows_per_team : matvec_dp_rows_per_team(ne0, rows), round ? 4 : 0) : 4;
    // Half units (64 weights) where a row has fewer 128-weight units than a team has lanes (2048 wide). H100,
    // PQ2_0: 2048 x 12288 12.5 -> 10.5 us, 2048 x 151936 84.7 -> 59.1 us; 1.7B decode 514-517 -> 546-556
    // tok/s (the table matvec: 476-479).
    const bool dp_half =
        dp && (t == TensorType::Q1_0 || t == TensorType::PQ2_0 || t == TensorType::TQ2_0) && ne0 < 32 * 128;
    std::string shader = dp    ? std::string(dp_half ? "matvec_dph" : "matvec_dp") + (in.rounded ? "i" : "") + (round ? "o" : "") +
                                  std::to_string(dp_rows) + "_" + type_suffix(t)
                         : lut ? "matvec_lut" + std::to_string(lut) + "x" + std::to_string(passes) + "_" + type_suffix(t)
                               : std::string("matvec_w_") + type_suffix(t);
    const uint32_t rows_per_wg = 8 * (lut ? lut : dp ? dp_rows : 4);
    const uint64_t row_blocks = (uint64_t(rows) + rows_per_wg - 1) / rows_per_wg;
    if (lut) ++impl_->stats.lut_matvecs;
    if (dp) ++impl_->stats.int_dot_matvecs;
    if (in.rounded || round) ++impl_->stats.rounded_matvecs;
    // (No split-K where the rounded input carries a norm, which needs the whole row, or for a SwiGLU-rounded
    // output, whose pairing counters would meet the split-K ones.)
    const uint32_t wg_target = (in.rounded && in.rms_norm) || (round && round->swiglu) ? 0 : impl_->matvec_wg_target;
    const MatvecSplit sp = dp ? matvec_split(4096, 16, ne0, rows, rows_per_wg, wg_target)
                              : matvec_split(2048, t == TensorType::Q1_0 ? 32 : 16, ne0, rows, rows_per_wg,
                                             impl_->matvec_wg_target);
    pc.slice_words = sp.slice_words;
    pc.splits = sp.splits;
    // Binding 4 is the split-K scratch (and the SwiGLU pairing's counters); otherwise it is never touched
    // (x is bound there).
    const VulkanBuffer* scratch = x.buffer;
    if (round && round->swiglu) {
        if (rows / 64 > Impl::k_split_counters || rows > Impl::k_split_partials)
            fail(op, "too many rows for the SwiGLU pairing's counters and scratch");
        impl_->ensure_splitk();
        scratch = &impl_->splitk;
    }
    if (sp.splits > 1) {
        impl_->ensure_splitk();
        ++impl_->stats.split_matvecs;
        impl_->profile_tag = "split";
        scratch = &impl_->splitk;
    }
    // Binding 5 only in the rounded-input / rounded-output modules.
    if (in.rounded || round) {
        impl_->dispatch(shader.c_str(), {w.buffer, x.buffer, y.buffer, nb, scratch, qb}, &pc, sizeof pc, row_blocks, sp.splits);
    } else {
        impl_->dispatch(shader.c_str(), {w.buffer, x.buffer, y.buffer, nb, scratch}, &pc, sizeof pc, row_blocks, sp.splits);
    }
}

namespace {
// The tiles matmul() records for a shape (one rule for matmul and matmul_reads_f16).
struct MatmulTiles {
    bool coop;       // matmul_coop.comp (tensor cores), else matmul.comp
    bool wide;       // 128 columns per tile, else 64
    bool reads_f16;  // the -DXF16 tiles (X as f16), given X in f16 or the x16 scratch holding it
};

MatmulTiles matmul_tiles(const VulkanBackend::Impl& m, TensorType t, uint32_t ne0, uint32_t rows, uint32_t ncols) {
    MatmulTiles k{};
    // F32 and BF16 weights keep the f32 matmul: f16 tiles would round them (and overflow beyond 65504).
    k.coop = m.use_coop && t != TensorType::F32 && t != TensorType::BF16;
    // Wide tiles (128 columns) halve the weight decoding per product; narrow ones give small matrices
    // twice the workgroups.
    // On an H100 (pp512): 4096x24576 and 12288x4096 gain 12-20 % with wide tiles, the 2048-wide
    // matrices of a 1.7B model (at most 12.6M weights) lose 15-65 %. On an H200, with q|k|v as one
    // prompt matmul (4096 x 6144), wide tiles from 4096 x 4096 up made the 8B pp512 2-4 % faster.
    k.wide = k.coop && ncols > 64 && (m.coop_wide == 1 || (m.coop_wide == 2 && uint64_t(rows) * ne0 >= (16u << 20)));
    // Tensor cores with f16 X: every tile loads half the bytes with no conversion (matmul_coop.comp
    // -DXF16). On an H100 (x512) the 128-column tiles gain 14-30 % (12288x4096 662 -> 464 us), the
    // 128 x 64 ones lose 0-8 % (the conversion's dispatch), hence Options::coop_x16 = 2: wide tiles only.
    k.reads_f16 = k.coop && (m.coop_x16 == 1 || (m.coop_x16 == 2 && k.wide)) && ne0 % 8 == 0;
    return k;
}
}  // namespace

bool VulkanBackend::matmul_reads_f16(TensorType t, uint32_t ne0, uint32_t rows, uint32_t ncols) const {
    return matmul_tiles(*impl_, t, ne0, rows, ncols).reads_f16;
}

void VulkanBackend::matmul(TensorType t, VulkanRef w, uint32_t ne0, uint32_t rows, VulkanRef x, uint32_t ncols,
                           VulkanRef y, bool x_f16) {
    const char* op = "matmul";
    impl_->require_recording(op);
    struct {
        uint32_t w_base, row_stride, ne0, rows, x_off, y_off, ncols;
    } pc{};
    WeightArgs wa = weight_args(op, t, w, ne0, rows);
    pc.w_base = wa.base;
    pc.row_stride = wa.row_stride;
    pc.ne0 = ne0;
    pc.rows = rows;
    pc.ncols = ncols;
    const MatmulTiles k = matmul_tiles(*impl_, t, ne0, rows, ncols);
    if (x_f16 && !k.reads_f16) fail(op, "f16 X where the tiles read f32 X");
    // (f16 X: x_off counts halves, and whole 8-half groups keep the tiles' 16-byte loads)
    pc.x_off = x_f16 ? index_of(op, "x", x, uint64_t(ne0) * ncols * 2, 16) * 8 : index_of(op, "x", x, floats(uint64_t(ne0) * ncols), 4);
    pc.y_off = index_of(op, "y", y, floats(uint64_t(rows) * ncols), 4);
    // matmul.comp: 64 x 64 tiles (rows x columns); matmul_coop.comp: 128 x 64 or 128 x 128.
    const uint64_t tile_r = k.coop ? 128 : 64, tile_c = k.wide ? 128 : 64;
    const uint64_t gx = (uint64_t(rows) + tile_r - 1) / tile_r, gy = (uint64_t(ncols) + tile_c - 1) / tile_c;
    if (gx > 65535 || gy > 65535) fail(op, "too many rows or columns for one dispatch");
    // f32 X for f16 tiles: converted once into the backend's x16 scratch (where it fits).
    const uint64_t x_elems = uint64_t(ne0) * ncols;
    const uint64_t x16_bytes = std::min<uint64_t>(VulkanBackend::Impl::k_x16_bytes, impl_->limits.maxStorageBufferRange);
    const bool xh = x_f16 || (k.reads_f16 && x_elems * 2 <= x16_bytes);
    const std::string shader =
        (!k.coop ? std::string("matmul_") : std::string(k.wide ? "matmul_coop128" : "matmul_coop") + (xh ? "xh_" : "_")) + type_suffix(t);
    if (xh && !x_f16) {
        if (!impl_->x16) impl_->x16 = create_buffer(x16_bytes, VulkanMemory::DeviceLocal);
        f32_to_f16(x, VulkanRef(impl_->x16, 0), static_cast<uint32_t>(x_elems));
        pc.x_off = 0;
        impl_->dispatch(shader.c_str(), {w.buffer, &impl_->x16, y.buffer}, &pc, sizeof pc, gx, static_cast<uint32_t>(gy));
        return;
    }
    impl_->dispatch(shader.c_str(), {w.buffer, x.buffer, y.buffer}, &pc, sizeof pc, gx, static_cast<uint32_t>(gy));
}

void VulkanBackend::rms_norm(VulkanRef x, VulkanRef weight, VulkanRef y, uint32_t n, uint32_t nrows, float eps,
                             bool quantize_i8) {
    const char* op = "rms_norm";
    impl_->require_recording(op);
    if (n == 0) fail(op, "n is 0");
    struct {
        uint32_t n, nrows, x_off, w_off, y_off;
        float eps;
        uint32_t quantize;
    } pc{n, nrows, 0, 0, 0, eps, quantize_i8 ? 1u : 0u};
    pc.x_off = index_of(op, "x", x, floats(uint64_t(n) * nrows), 4);
    pc.w_off = index_of(op, "weight", weight, floats(n), 4);
    pc.y_off = index_of(op, "y", y, floats(uint64_t(n) * nrows), 4);
    impl_->dispatch("rms_norm", {x.buffer, weight.buffer, y.buffer}, &pc, sizeof pc, nrows);
}

void VulkanBackend::add_rms_norm(VulkanRef x, const VulkanRef* add, VulkanRef weight, VulkanRef y, uint32_t n,
                                 uint32_t nrows, float eps, bool y_f16) {
    const char* op = "add_rms_norm";
    impl_->require_recording(op);
    if (n == 0 || n % 2 != 0) fail(op, "n must be even and not 0");
    struct {
        uint32_t n, nrows, x_off, t_off, w_off, y_off;
        float eps;
        uint32_t add;
    } pc{n, nrows, 0, 0, 0, 0, eps, add ? 1u : 0u};
    // Offsets in pairs (vec2 / one word of two halves): 8-byte aligned floats, 4-byte aligned halves.
    pc.x_off = index_of(op, "x", x, floats(uint64_t(n) * nrows), 8);
    if (add) pc.t_off = index_of(op, "add", *add, floats(uint64_t(n) * nrows), 8);
    pc.w_off = index_of(op, "weight", weight, floats(n), 8);
    pc.y_off = y_f16 ? index_of(op, "y", y, uint64_t(n) * nrows * 2, 4) : index_of(op, "y", y, floats(uint64_t(n) * nrows), 8);
    if (add && add->buffer == x.buffer) fail(op, "add must be in another buffer than x");
    impl_->dispatch(y_f16 ? "add_rms_norm_f16" : "add_rms_norm", {x.buffer, add ? add->buffer : x.buffer, weight.buffer, y.buffer},
                    &pc, sizeof pc, nrows);
}

void VulkanBackend::rope(VulkanRef x, VulkanRef positions, uint32_t head_dim, uint32_t n_heads, uint32_t n_tokens,
                         uint32_t n_rot, float freq_base, RopeStyle style) {
    const char* op = "rope";
    impl_->require_recording(op);
    if (n_rot % 2 != 0 || n_rot > head_dim) fail(op, "n_rot must be even and at most head_dim");
    if (!(freq_base > 0.0f)) fail(op, "freq_base must be positive");
    struct {
        uint32_t head_dim, n_heads, n_tokens, n_rot, x_off, p_off;
        float log2_base;
        uint32_t style;
    } pc{head_dim, n_heads, n_tokens, n_rot, 0, 0, std::log2(freq_base), style == RopeStyle::Norm ? 0u : 1u};
    pc.x_off = index_of(op, "x", x, floats(uint64_t(head_dim) * n_heads * n_tokens), 4);
    pc.p_off = index_of(op, "positions", positions, uint64_t(4) * n_tokens, 4);
    const uint64_t threads = uint64_t(n_tokens) * n_heads * (n_rot / 2);
    if (threads > 0xffffffffull) fail(op, "too many elements");
    impl_->dispatch("rope", {x.buffer, positions.buffer}, &pc, sizeof pc, (threads + 255) / 256);
}

void VulkanBackend::softmax(VulkanRef x, VulkanRef y, uint32_t n, uint32_t nrows, float scale) {
    const char* op = "softmax";
    impl_->require_recording(op);
    if (n == 0) fail(op, "n is 0");
    struct {
        uint32_t n, nrows, x_off, y_off;
        float scale;
    } pc{n, nrows, 0, 0, scale};
    pc.x_off = index_of(op, "x", x, floats(uint64_t(n) * nrows), 4);
    pc.y_off = index_of(op, "y", y, floats(uint64_t(n) * nrows), 4);
    impl_->dispatch("softmax", {x.buffer, y.buffer}, &pc, sizeof pc, nrows);
}

void VulkanBackend::swiglu(VulkanRef gate, VulkanRef up, VulkanRef y, uint32_t n, bool squared_relu, bool y_f16) {
    const char* op = "swiglu";
    impl_->require_recording(op);
    if (y_f16 && n % 2 != 0) fail(op, "n must be even for f16 output");
    struct {
        uint32_t n, g_off, u_off, y_off, relu2;
    } pc{n, 0, 0, 0, squared_relu ? 1u : 0u};
    pc.g_off = index_of(op, "gate", gate, floats(n), 4);
    pc.u_off = index_of(op, "up", up, floats(n), 4);
    pc.y_off = y_f16 ? index_of(op, "y", y, uint64_t(n) * 2, 4) : index_of(op, "y", y, floats(n), 4);
    const uint64_t threads = y_f16 ? n / 2 : n;
    impl_->dispatch(y_f16 ? "swiglu_f16" : "swiglu", {gate.buffer, up.buffer, y.buffer}, &pc, sizeof pc, (threads + 255) / 256);
}

void VulkanBackend::quantize_i8(VulkanRef x, VulkanRef y, uint32_t n, uint32_t nrows) {
    const char* op = "quantize_i8";
    impl_->require_recording(op);
    if (n == 0) fail(op, "n is 0");
    struct {
        uint32_t n, nrows, x_off, y_off;
    } pc{n, nrows, 0, 0};
    pc.x_off = index_of(op, "x", x, floats(uint64_t(n) * nrows), 4);
    pc.y_off = index_of(op, "y", y, floats(uint64_t(n) * nrows), 4);
    impl_->dispatch("quantize_i8", {x.buffer, y.buffer}, &pc, sizeof pc, nrows);
}

namespace {
struct BinaryPush {
    uint32_t n, nb, a_off, b_off, y_off, op;
};
}  // namespace

static void record_binary(VulkanBackend::Impl& m, const char* op, uint32_t code, VulkanRef a, VulkanRef b, VulkanRef y,
                          uint32_t n, uint32_t nb) {
    m.require_recording(op);
    if (nb == 0) nb = n;
    if (n > 0 && n % nb != 0) fail(op, "the length of b must divide n");
    BinaryPush pc{n, nb, 0, 0, 0, code};
    pc.a_off = index_of(op, "a", a, floats(n), 4);
    pc.b_off = index_of(op, "b", b, floats(nb), 4);
    pc.y_off = index_of(op, "y", y, floats(n), 4);
    m.dispatch("binary", {a.buffer, b.buffer, y.buffer}, &pc, sizeof pc, (uint64_t(n) + 255) / 256);
}

void VulkanBackend::add(VulkanRef a, VulkanRef b, VulkanRef y, uint32_t n, uint32_t nb) {
    record_binary(*impl_, "add", 0, a, b, y, n, nb);
}

void VulkanBackend::mul(VulkanRef a, VulkanRef b, VulkanRef y, uint32_t n, uint32_t nb) {
    record_binary(*impl_, "mul", 1, a, b, y, n, nb);
}

void VulkanBackend::scale(VulkanRef x, VulkanRef y, uint32_t n, float s) {
    const char* op = "scale";
    impl_->require_recording(op);
    struct {
        uint32_t n, x_off, y_off;
        float s;
    } pc{n, 0, 0, s};
    pc.x_off = index_of(op, "x", x, floats(n), 4);
    pc.y_off = index_of(op, "y", y, floats(n), 4);
    impl_->dispatch("scale", {x.buffer, y.buffer}, &pc, sizeof pc, (uint64_t(n) + 255) / 256);
}

void VulkanBackend::copy(VulkanRef src, VulkanRef dst, uint64_t bytes) {
    const char* op = "copy";
    impl_->require_recording(op);
    if (bytes == 0) return;
    index_of(op, "source", src, bytes, 4);
    index_of(op, "destination", dst, bytes, 4);
    if (src.buffer == dst.buffer && src.offset < dst.offset + bytes && dst.offset < src.offset + bytes)
        fail(op, "source and destination overlap");
    impl_->record_copy(*src.buffer, src.offset, *dst.buffer, dst.offset, bytes);
}

namespace {
// The argument checks qkv_post and attention_decode share (the token count is checked by each).
void check_qkv_post(const char* op, const VulkanQkvPost& p, VulkanRef q, VulkanRef k, VulkanRef v, VulkanRef q_norm,
                    VulkanRef k_norm) {
    if (p.head_dim == 0 || p.head_dim > 512 || p.head_dim % 2 != 0) fail(op, "head_dim must be even and 2..512");
    if (p.n_rot % 2 != 0 || p.n_rot > p.head_dim) fail(op, "n_rot must be even and at most head_dim");
    if (!(p.freq_base > 0.0f)) fail(op, "freq_base must be positive");
    if (p.n_head == 0 || p.n_kv_head == 0 || uint64_t(p.n_head) + 2ull * p.n_kv_head > 65535) fail(op, "bad head counts");
    if (k.buffer != q.buffer || v.buffer != q.buffer) fail(op, "q, k and v must be in one buffer");
    if (p.q_norm && p.k_norm && k_norm.buffer != q_norm.buffer) fail(op, "q_norm and k_norm must be in one buffer");
    if (!(p.freq_scale > 0.0f) || !std::isfinite(p.freq_scale)) fail(op, "freq_scale must be positive");
    if (p.use_freq_factors && (p.q_norm || p.k_norm) && p.freq_factors.buffer != (p.q_norm ? q_norm : k_norm).buffer)
        fail(op, "rope_freqs must be in the buffer of the norm weights");
}

// The buffer qkv_post.comp / attention.comp read norm weights and rope_freqs from (nullptr: neither is
// used), and the float index of the rope_freqs factors (0xffffffff: none).
const VulkanBuffer* post_weights(const char* op, const VulkanQkvPost& p, VulkanRef q_norm, VulkanRef k_norm,
                                 uint32_t& ff_off) {
    ff_off = 0xffffffffu;
    if (p.use_freq_factors) {
        ff_off = index_of(op, "rope_freqs", p.freq_factors, floats(p.n_rot / 2), 4);
        if (!p.freq_factors.buffer) fail(op, "rope_freqs have no buffer");
        return p.freq_factors.buffer;
    }
    if (p.q_norm || p.k_norm) {
        const VulkanBuffer* b = p.q_norm ? q_norm.buffer : k_norm.buffer;
        if (!b) fail(op, "norm weights have no buffer");
        return b;
    }
    return nullptr;
}

// attention.comp's push constants.
struct AttentionPC {
    uint32_t head_dim, n_head, n_kv_head, n_kv;
    uint32_t k_off, k_ps, k_hs;
    uint32_t v_off, v_ps, v_hs;
    uint32_t q_off, o_off;
    float scale;
    uint32_t n_tokens, round_q, split_len, n_splits, f_off;
    uint32_t fuse, kr_off, vr_off, qn_off, kn_off, n_rot, style;
    float log2_base, eps;
    int32_t pos;
    float freq_scale;
    uint32_t ff_off;
};
static_assert(sizeof(AttentionPC) <= 128, "push constants beyond the guaranteed 128 bytes");
}  // namespace

void VulkanBackend::attention(VulkanRef q, VulkanRef k_cache, VulkanRef v_cache, VulkanRef out, const VulkanAttention& p) {
    record_attention("attention", q, k_cache, v_cache, out, p, nullptr);
}

void VulkanBackend::attention_decode(VulkanRef q, VulkanRef k, VulkanRef v, VulkanRef q_norm, VulkanRef k_norm,
                                     int32_t pos, VulkanRef k_cache, VulkanRef v_cache, VulkanRef out,
                                     const VulkanQkvPost& post, const VulkanAttention& p) {
    const char* op = "attention_decode";
    impl_->require_recording(op);
    if (p.n_tokens != 1 || post.n_tokens != 1) fail(op, "one query token only");
    if (post.head_dim != p.head_dim || post.n_head != p.n_head || post.n_kv_head != p.n_kv_head)
        fail(op, "the qkv_post and attention shapes differ");
    check_qkv_post(op, post, q, k, v, q_norm, k_norm);
    if (p.k_pos_stride % 2 != 0 || p.k_head_stride % 2 != 0 || p.v_pos_stride % 2 != 0 || p.v_head_stride % 2 != 0)
        fail(op, "the cache strides must be even");
    AttentionFusion f;
    f.post = &post;
    f.k = k;
    f.v = v;
    f.q_norm = q_norm;
    f.k_norm = k_norm;
    f.pos = pos;
    record_attention(op, q, k_cache, v_cache, out, p, &f);
}

void VulkanBackend::record_attention(const char* op, VulkanRef q, VulkanRef k_cache, VulkanRef v_cache, VulkanRef out,
                                     const VulkanAttention& p, const AttentionFusion* f) {
    impl_->require_recording(op);
    if (p.head_dim == 0 || p.head_dim > 512) fail(op, "head_dim must be 1..512");
    if (p.n_head == 0 || p.n_kv_head == 0 || p.n_head % p.n_kv_head != 0) fail(op, "n_kv_head must divide n_head");
    if (p.n_kv == 0) fail(op, "the KV cache is empty");
    if (p.n_head > 65535) fail(op, "too many heads");
    if (p.n_tokens == 0 || p.n_tokens > p.n_kv || p.n_tokens > 65535) fail(op, "n_tokens must be 1..n_kv");
    // Highest element index touched, + 1, for each cache.
    auto extent = [](uint32_t n_kv, uint32_t ps, uint32_t n_kvh, uint32_t hs, uint32_t d) {
        return uint64_t(n_kv - 1) * ps + uint64_t(n_kvh - 1) * hs + d;
    };
    AttentionPC pc{p.head_dim, p.n_head, p.n_kv_head, p.n_kv, 0, p.k_pos_stride, p.k_head_stride, 0, p.v_pos_stride,
                   p.v_head_stride, 0, 0, p.scale, p.n_tokens, p.round_q_f16 ? 1u : 0u, 0, 0, 0,
                   0, 0, 0, 0xffffffffu, 0xffffffffu, 0, 0, 0.0f, 0.0f, 0, 1.0f, 0xffffffffu};
    pc.k_off = index_of(op, "k_cache", k_cache, 2 * extent(p.n_kv, p.k_pos_stride, p.n_kv_head, p.k_head_stride, p.head_dim), 2);
    pc.v_off = index_of(op, "v_cache", v_cache, 2 * extent(p.n_kv, p.v_pos_stride, p.n_kv_head, p.v_head_stride, p.head_dim), 2);
    const uint64_t qo_floats = uint64_t(p.n_tokens) * p.n_head * p.head_dim;
    pc.q_off = index_of(op, "q", q, floats(qo_floats), 4);
    pc.o_off = index_of(op, "out", out, floats(qo_floats), 4);
    const VulkanBuffer* nbuf = q.buffer;  // binding 6: norm weights (fused), otherwise never read
    if (f) {
        if (pc.k_off % 2 != 0 || pc.v_off % 2 != 0) fail(op, "the caches must be 4-byte aligned");
        const uint64_t kd = uint64_t(p.n_kv_head) * p.head_dim;
        pc.fuse = 1;
        pc.kr_off = index_of(op, "k", f->k, floats(kd), 4);
        pc.vr_off = index_of(op, "v", f->v, floats(kd), 4);
        if (f->post->q_norm) pc.qn_off = index_of(op, "q_norm", f->q_norm, floats(p.head_dim), 4);
        if (f->post->k_norm) pc.kn_off = index_of(op, "k_norm", f->k_norm, floats(p.head_dim), 4);
        if (const VulkanBuffer* b = post_weights(op, *f->post, f->q_norm, f->k_norm, pc.ff_off)) nbuf = b;
        pc.freq_scale = f->post->freq_scale;
        pc.n_rot = f->post->n_rot;
        pc.style = f->post->style == RopeStyle::Norm ? 0u : 1u;
        pc.log2_base = std::log2(f->post->freq_base);
        pc.eps = f->post->eps;
        pc.pos = f->pos;
    }
    // attention.comp: 64 threads, MAX_DPT output dims each.
    const char* shader = p.head_dim <= 64 ? "attention_dpt1" : p.head_dim <= 128 ? "attention_dpt2" : "attention_dpt8";
    const bool rows16 = ((pc.k_off | p.k_pos_stride | p.k_head_stride | pc.v_off | p.v_pos_stride | p.v_head_stride) & 7u) == 0;
    const bool split = p.n_tokens == 1 && p.split_len > 0 && p.n_kv > p.split_len;
    // Decoding, head_dim 128, at most 64 keys per workgroup: attention_d128.comp (same contract).
    if (p.n_tokens == 1 && p.head_dim == 128 && rows16 && (split ? p.split_len <= 64 : p.n_kv <= 64) &&
        impl_->decode_attention128) {
        shader = "attention_d128";
        ++impl_->stats.decode128_attentions;
    }
    if (split) {
        const uint32_t n_splits = (p.n_kv + p.split_len - 1) / p.split_len;
        if (n_splits > 65535) fail(op, "too many KV splits");
        pc.split_len = p.split_len;
        pc.n_splits = n_splits;
        pc.f_off = pc.o_off;
        pc.o_off = index_of(op, "scratch", p.scratch, floats(uint64_t(p.n_head) * n_splits * (p.head_dim + 2)), 4);
        // The per-head counters of the in-shader merge share the split-K matvec's counters (each
        // dispatch leaves them at 0, and dispatches are separated by barriers).
        impl_->ensure_splitk();
        impl_->profile_tag = f ? "split fused" : "split";
        impl_->dispatch(shader,
                        {q.buffer, k_cache.buffer, v_cache.buffer, p.scratch.buffer, out.buffer, &impl_->splitk, nbuf},
                        &pc, sizeof pc, p.n_head, n_splits);
        return;
    }
    // Prompts with head_dim 128 and 16-byte aligned key / value rows: the tiled shader (32 query
    // tokens per workgroup share each key and value load).
    if (!f && p.n_tokens > 1 && p.head_dim == 128 && rows16 && impl_->tiled_prompt_attention) {
        struct {
            uint32_t n_head, n_kv_head, n_kv, n_tokens, k_off, k_ps, k_hs, v_off, v_ps, v_hs, q_off, o_off;
            float scale;
            uint32_t round_q;
        } tp{p.n_head, p.n_kv_head, p.n_kv, p.n_tokens, pc.k_off, p.k_pos_stride, p.k_head_stride, pc.v_off,
             p.v_pos_stride, p.v_head_stride, pc.q_off, pc.o_off, p.scale, pc.round_q};
        ++impl_->stats.tiled_attentions;
        impl_->dispatch("attention_prompt", {q.buffer, k_cache.buffer, v_cache.buffer, out.buffer}, &tp, sizeof tp,
                        p.n_head, (p.n_tokens + 31) / 32);
        return;
    }
    // Bindings 4 and 5 are only used in split-KV mode.
    if (f) impl_->profile_tag = "fused";
    impl_->dispatch(shader, {q.buffer, k_cache.buffer, v_cache.buffer, out.buffer, out.buffer, out.buffer, nbuf}, &pc,
                    sizeof pc, p.n_head, p.n_tokens);
}

void VulkanBackend::qkv_post(VulkanRef q, VulkanRef k, VulkanRef v, VulkanRef q_norm, VulkanRef k_norm,
                             VulkanRef positions, VulkanRef k_cache, VulkanRef v_cache, const VulkanQkvPost& p) {
    const char* op = "qkv_post";
    impl_->require_recording(op);
    if (p.n_tokens == 0 || p.n_tokens > 65535) fail(op, "n_tokens must be 1..65535");
    check_qkv_post(op, p, q, k, v, q_norm, k_norm);
    const uint64_t QD = uint64_t(p.n_head) * p.head_dim, KD = uint64_t(p.n_kv_head) * p.head_dim;
    struct {
        uint32_t head_dim, n_head, n_kv_head, n_rot, q_off, k_off, v_off, qn_off, kn_off, p_off, kc_off, vc_off;
        float log2_base;
        uint32_t style;
        float eps, freq_scale;
        uint32_t ff_off;
        uint32_t q_ts, kv_ts, qo_off, qo_ts;
    } pc{p.head_dim, p.n_head, p.n_kv_head, p.n_rot, 0, 0, 0, 0xffffffffu, 0xffffffffu, 0, 0, 0,
         std::log2(p.freq_base), p.style == RopeStyle::Norm ? 0u : 1u, p.eps, p.freq_scale, 0xffffffffu,
         0, 0, 0, 0};
    // Token strides: packed, or one stride for all three (a fused q|k|v matmul's output rows).
    if (p.token_stride != 0 && p.token_stride < std::max(QD, KD))
        fail(op, "token_stride is shorter than one token's q or k");
    const uint64_t q_ts = p.token_stride ? p.token_stride : QD, kv_ts = p.token_stride ? p.token_stride : KD;
    pc.q_ts = static_cast<uint32_t>(q_ts);
    pc.kv_ts = static_cast<uint32_t>(kv_ts);
    pc.q_off = index_of(op, "q", q, floats(q_ts * (p.n_tokens - 1) + QD), 4);
    pc.k_off = index_of(op, "k", k, floats(kv_ts * (p.n_tokens - 1) + KD), 4);
    pc.v_off = index_of(op, "v", v, floats(kv_ts * (p.n_tokens - 1) + KD), 4);
    const bool q_moves = p.q_out.buffer && *p.q_out.buffer;
    if (q_moves) {
        pc.qo_off = index_of(op, "q_out", p.q_out, floats(QD * p.n_tokens), 4);
        pc.qo_ts = static_cast<uint32_t>(QD);
        // (Workgroups read their own head only, so q_out must not overlap q, k or v of other tokens.)
        if (p.q_out.buffer == q.buffer) fail(op, "q_out must be in another buffer than q, k and v");
    } else {
        pc.qo_off = pc.q_off;
        pc.qo_ts = pc.q_ts;
    }
    if (p.q_norm) pc.qn_off = index_of(op, "q_norm", q_norm, floats(p.head_dim), 4);
    if (p.k_norm) pc.kn_off = index_of(op, "k_norm", k_norm, floats(p.head_dim), 4);
    pc.p_off = index_of(op, "positions", positions, uint64_t(4) * p.n_tokens, 4);
    pc.kc_off = index_of(op, "k_cache", k_cache, 2 * KD * p.n_tokens, 4);
    pc.vc_off = index_of(op, "v_cache", v_cache, 2 * KD * p.n_tokens, 4);
    // Unused norm binding: bind the q buffer (never read).
    const VulkanBuffer* nbuf = post_weights(op, p, q_norm, k_norm, pc.ff_off);
    if (!nbuf) nbuf = q.buffer;
    impl_->dispatch("qkv_post",
                    {q.buffer, nbuf, positions.buffer, k_cache.buffer, v_cache.buffer, q_moves ? p.q_out.buffer : q.buffer},
                    &pc, sizeof pc, (p.n_head + 2 * p.n_kv_head + 7) / 8, p.n_tokens);  // 8 heads per workgroup
}

void VulkanBackend::f32_to_f16(VulkanRef x, VulkanRef y, uint32_t n) {
    const char* op = "f32_to_f16";
    impl_->require_recording(op);
    if (n % 2 != 0) fail(op, "n must be even");
    struct {
        uint32_t n_pairs, x_off, y_off;
    } pc{n / 2, 0, 0};
    pc.x_off = index_of(op, "x", x, floats(n), 4);
    pc.y_off = index_of(op, "y", y, uint64_t(2) * n, 4);
    impl_->dispatch("f32_to_f16", {x.buffer, y.buffer}, &pc, sizeof pc, (uint64_t(pc.n_pairs) + 255) / 256);
}

}  // namespace bonsai
