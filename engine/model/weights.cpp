#include "model/weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <new>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/repack.h"

namespace bonsai::model_detail {

std::string shape_str(const int64_t* ne, size_t n) {
    std::string s = "[";
    for (size_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

const gguf::TensorInfo* TensorBinder::optional(const std::string& name, std::vector<int64_t> ne) const {
    const gguf::TensorInfo* t = f_.tensor(name);
    if (!t) return nullptr;
    int64_t want[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < ne.size() && i < 4; ++i) want[i] = ne[i];
    for (int i = 0; i < 4; ++i) {
        if (t->ne[i] != want[i]) {
            size_t nd = std::max<size_t>(t->n_dims, 1);
            throw Error("tensor '" + name + "' has shape " + shape_str(t->ne, nd) + ", expected " +
                        shape_str(want, ne.size()));
        }
    }
    return t;
}

const gguf::TensorInfo& TensorBinder::require(const std::string& name, std::vector<int64_t> ne) const {
    const gguf::TensorInfo* t = optional(name, std::move(ne));
    if (!t) throw Error("missing tensor '" + name + "'");
    return *t;
}

Linear TensorBinder::linear_from(const gguf::TensorInfo& t) const {
    Linear l;
    l.name = t.name;
    l.w.type = t.type;
    l.w.data = t.data;
    l.w.n_in = t.ne[0];
    l.w.n_out = t.ne[1];
    if (t.type == TensorType::I2_S && t.ne[0] % 128 != 0)
        throw Error("tensor '" + t.name + "': I2_S rows must be a multiple of 128 elements, got " + std::to_string(t.ne[0]));
    const cpu::ActFormat af = cpu::act_format(t.type);  // throws for types the matmul cannot run
    const int64_t blk = af == cpu::ActFormat::Q8_0 ? 32 : af == cpu::ActFormat::Q8_K ? 256 : 1;
    if (t.ne[0] % blk != 0)
        throw Error("tensor '" + t.name + "': row length " + std::to_string(t.ne[0]) + " is not a multiple of " +
                    std::to_string(blk));
    repack_for_cpu(l, arena_);
    return l;
}

namespace {
// Hands the n bytes at p back to the kernel (MADV_PAGEOUT: a hint that never changes their contents).
void page_out(const uint8_t* p, size_t n) {
#ifdef MADV_PAGEOUT
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto b = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
    const auto e = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
    if (e > b) (void)madvise(reinterpret_cast<void*>(b), e - b, MADV_PAGEOUT);  // a hint; failure is harmless
#else
    (void)p;
    (void)n;
#endif
}
}  // namespace

// Replaces a Q1_0 / Q2_0 / TQ2_0 weight by its R16 / R16M / R16L / R32L / R16T copy when a SIMD kernel will consume
// it (repack.h, preferred_layout). The copy has the same size as the mapped bytes; those are then
// handed back to the kernel with MADV_PAGEOUT (a hint that never changes their contents, whether
// mapped or heap memory) so resident memory does not double. The tied token embedding rows are still
// read on demand from the mapping. TQ1_0 on CPUs without its table kernel is first converted to TQ2_0
// (tq1_as_tq2), 22 % larger than the mapped bytes.
void repack_for_cpu(Linear& l, WeightArena& arena) {
    const int64_t ne[4] = {l.w.n_in, l.w.n_out, 1, 1};
    const uint8_t* mapped = l.w.data;
    const size_t mapped_bytes = tensor_nbytes(l.w.type, ne);
    // TQ1_0 where no table kernel reads it becomes TQ2_0 (repack.h, tq1_as_tq2: lossless, +22 % memory).
    // When TQ2_0 is then repacked too, the TQ2_0 copy is a temporary, so that only the final form takes
    // arena memory (the arena frees nothing before the model goes).
    std::vector<uint8_t> tq2;
    if (l.w.type == TensorType::TQ1_0 && l.w.layout == cpu::Layout::Native && cpu::tq1_as_tq2(cpu::active_isa())) {
        const size_t n = tensor_nbytes(TensorType::TQ2_0, ne);
        const bool repack_next =
            cpu::preferred_layout(TensorType::TQ2_0, l.w.n_in, l.w.n_out, cpu::active_isa()) != cpu::Layout::Native;
        std::shared_ptr<uint8_t[]> buf;
        uint8_t* out = nullptr;
        if (repack_next) {
            tq2.resize(n);
            out = tq2.data();
        } else {
            buf = arena.take(n);
            out = buf.get();
        }
        cpu::convert_tq1_to_tq2(l.w, out);
        l.w.type = TensorType::TQ2_0;
        l.w.data = out;
        if (!repack_next) {
            page_out(mapped, mapped_bytes);
            l.repacked = std::move(buf);
            return;
        }
    }
    // Q1_0 on AVX-512 takes the table form (VBMI, rows a multiple of 16) or the mask form (its kernel
    // selects activation bytes with the bits directly); TQ2_0 is repacked for the AVX-512 kernel only.
    const cpu::Layout target = cpu::preferred_layout(l.w.type, l.w.n_in, l.w.n_out, cpu::active_isa());
    if (target == cpu::Layout::Native) return;
    std::shared_ptr<uint8_t[]> buf = arena.take(tensor_nbytes(l.w.type, ne));  // 2 MiB pages where the OS grants them
    cpu::repack_r16(l.w, buf.get(), target);
    page_out(mapped, mapped_bytes);
    l.w.data = buf.get();
    l.w.layout = target;
    l.repacked = std::move(buf);
}

Linear TensorBinder::linear(const std::string& name, int64_t n_in, int64_t n_out, bool with_scale) const {
    Linear l = linear_from(require(name + ".weight", {n_in, n_out}));
    if (with_scale) {
        if (const gguf::TensorInfo* s = optional(name + ".scale", {1})) {
            float v = 0.0f;
            dequantize(s->type, s->data, &v, 1);
            if (!std::isfinite(v)) throw Error("tensor '" + name + ".scale' is not finite");
            l.scale = v;
            l.has_scale = true;
        }
    }
    return l;
}

std::vector<float> TensorBinder::vec(const std::string& name, int64_t n) const {
    const gguf::TensorInfo& t = require(name, {n});
    if (t.type == TensorType::I2_S) throw Error("tensor '" + name + "': a norm vector cannot be I2_S");
    std::vector<float> v(static_cast<size_t>(n));
    dequantize(t.type, t.data, v.data(), n);
    return v;
}

}  // namespace bonsai::model_detail
