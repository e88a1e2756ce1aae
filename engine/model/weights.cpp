#include "model/weights.h"

#include <cmath>

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
    return l;
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
