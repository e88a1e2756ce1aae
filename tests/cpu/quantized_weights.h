#pragma once
// Random quantized weight matrices and the activations a kernel consumed, in float64: the shared
// fixture of the CPU kernel tests (test_cpu_kernels, test_onednn_gemm). Weights come from
// bonsai::quantize / bonsai::dequantize (the quant area's format code), never from the kernels.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/repack.h"
#include "bonsai/tensor_type.h"

namespace bonsai::test {

struct Quantized {
    std::vector<uint8_t> native, r16, r16m;  // r16m: the Q1_0 mask form (Layout::R16M)
    std::vector<uint8_t> r16l;               // the Q1_0 table form (Layout::R16L), n_out % 16 == 0 only
    std::vector<uint8_t> r32l;               // the AVX2 Q1_0 table form (Layout::R32L), n_out % 32 == 0 only
    std::vector<uint8_t> r16t;               // the TQ2_0 form (Layout::R16T)
    std::vector<uint8_t> r32t;               // the AVX2 TQ2_0 table form (Layout::R32T), n_out % 32 == 0 only
    std::vector<float> deq;
};

// Byte offset of the fp16 scale inside a block, for the raw-bytes variant (-1: no per-block scale).
inline int scale_offset(TensorType t) {
    switch (t) {
        case TensorType::Q8_0:
        case TensorType::Q4_0:
        case TensorType::Q1_0:
        case TensorType::Q2_0:
        case TensorType::PQ2_0: return 0;
        case TensorType::TQ1_0: return 52;
        case TensorType::PTQ1_0: return 26;
        case TensorType::TQ2_0: return 64;
        default: return -1;
    }
}

// raw: random bytes as the weights (all code values, including ones the quantizers never write), with
// the block scales (or I2_S's tensor scale) replaced by random finite values.
inline Quantized make(TensorType type, int64_t n_in, int64_t n_out, std::mt19937& rng, bool raw = false) {
    Quantized q;
    const int64_t ne[4] = {n_in, n_out, 1, 1};
    q.native.resize(tensor_nbytes(type, ne));
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> w(static_cast<size_t>(n_in * n_out));
    for (auto& x : w) x = nd(rng);
    if (!raw) {
        quantize(type, w.data(), q.native.data(), n_in * n_out);
    } else {
        for (auto& b : q.native) b = static_cast<uint8_t>(rng());
        std::uniform_real_distribution<float> ud(0.01f, 1.0f);
        const auto& tr = tensor_type_traits(type);
        if (type == TensorType::I2_S) {
            const float s = ud(rng);
            std::memcpy(q.native.data() + n_in * n_out / 4, &s, 4);
        } else {
            for (size_t b = 0; b < q.native.size() / tr.block_bytes; ++b) {
                const uint16_t h = fp32_to_fp16(ud(rng));
                std::memcpy(q.native.data() + b * tr.block_bytes + scale_offset(type), &h, 2);
            }
        }
    }
    q.deq.resize(w.size());
    dequantize(type, q.native.data(), q.deq.data(), n_in * n_out);
    if (cpu::r32t_eligible(type, n_in, n_out)) {
        q.r32t.resize(q.native.size());
        cpu::repack_r16(cpu::Weight{type, q.native.data(), n_in, n_out, cpu::Layout::Native}, q.r32t.data(),
                        cpu::Layout::R32T);
    }
    if (type == TensorType::TQ2_0 && cpu::r16_eligible(type, n_in)) {
        q.r16t.resize(q.native.size());
        cpu::repack_r16(cpu::Weight{type, q.native.data(), n_in, n_out, cpu::Layout::Native}, q.r16t.data(),
                        cpu::Layout::R16T);
    } else if (cpu::r16_eligible(type, n_in)) {
        q.r16.resize(q.native.size());
        cpu::repack_r16(cpu::Weight{type, q.native.data(), n_in, n_out, cpu::Layout::Native}, q.r16.data());
        if (type == TensorType::Q1_0) {
            q.r16m.resize(q.native.size());
            cpu::repack_r16(cpu::Weight{type, q.native.data(), n_in, n_out, cpu::Layout::Native}, q.r16m.data(),
                            cpu::Layout::R16M);
        }
        if (cpu::r16l_eligible(type, n_in, n_out)) {
            q.r16l.resize(q.native.size());
            cpu::repack_r16(cpu::Weight{type, q.native.data(), n_in, n_out, cpu::Layout::Native}, q.r16l.data(),
                            cpu::Layout::R16L);
        }
        if (cpu::r32l_eligible(type, n_in, n_out)) {
            q.r32l.resize(q.native.size());
            cpu::repack_r16(cpu::Weight{type, q.native.data(), n_in, n_out, cpu::Layout::Native}, q.r32l.data(),
                            cpu::Layout::R32L);
        }
    }
    return q;
}

// Activation row t as the kernel saw it, in float64.
inline std::vector<double> decoded_acts(const cpu::Activations& a, int64_t t) {
    const int64_t n = a.n_in();
    std::vector<double> x(static_cast<size_t>(n));
    const uint8_t* p = a.row(t);
    if (a.format() == cpu::ActFormat::F16 || a.format() == cpu::ActFormat::BF16) {  // floats, already rounded
        for (int64_t i = 0; i < n; ++i) {
            float f;
            std::memcpy(&f, p + 4 * i, 4);
            x[static_cast<size_t>(i)] = f;
        }
        return x;
    }
    if (a.format() == cpu::ActFormat::I8_ROW) {  // f32 s, int32 Σa, int8 a: value a / s
        float s;
        std::memcpy(&s, p, 4);
        for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] = static_cast<double>(static_cast<int8_t>(p[8 + i])) / s;
        return x;
    }
    const bool k = a.format() == cpu::ActFormat::Q8_K;
    const int64_t blk = k ? 256 : 32, bytes = k ? 292 : 36;
    for (int64_t b = 0; b < n / blk; ++b) {
        float d;
        std::memcpy(&d, p + b * bytes, 4);
        const int8_t* q = reinterpret_cast<const int8_t*>(p + b * bytes + 4);
        for (int64_t i = 0; i < blk; ++i) x[static_cast<size_t>(b * blk + i)] = static_cast<double>(d) * q[i];
    }
    return x;
}

// Σ_i w[o][i]·x[t][i] in float64 for every token t of `a` (as the kernel saw it) and row o < n_out, and
// its error scale Σ|w·x|: ref[t·n_out + o], mag[t·n_out + o].
// With x128: from the activations' per-128 form (Activations::x128, the AMX prompt tiles' input) instead.
inline void reference_products(const Quantized& q, const cpu::Activations& a, int64_t n_in, int64_t n_out,
                               std::vector<double>& ref, std::vector<double>& mag, bool x128 = false) {
    ref.assign(static_cast<size_t>(a.n_rows() * n_out), 0.0);
    mag.assign(ref.size(), 0.0);
    for (int64_t t = 0; t < a.n_rows(); ++t) {
        std::vector<double> x;
        if (x128) {
            x.resize(static_cast<size_t>(n_in));
            for (int64_t i = 0; i < n_in; ++i)
                x[static_cast<size_t>(i)] = static_cast<double>(a.x128_scales(t)[i / 128]) * a.x128(t)[i];
        } else {
            x = decoded_acts(a, t);
        }
        for (int64_t o = 0; o < n_out; ++o) {
            double s = 0, m = 0;
            for (int64_t i = 0; i < n_in; ++i) {
                const double p = static_cast<double>(q.deq[static_cast<size_t>(o * n_in + i)]) * x[static_cast<size_t>(i)];
                s += p;
                m += std::fabs(p);
            }
            ref[static_cast<size_t>(t * n_out + o)] = s;
            mag[static_cast<size_t>(t * n_out + o)] = m;
        }
    }
}

}  // namespace bonsai::test
