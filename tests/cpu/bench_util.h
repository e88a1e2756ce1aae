#pragma once
// What the CPU benchmarks (bonsai-bench-prefill, bonsai-bench-decode) share: random weights in the
// loader's layouts, comma lists, the command-line walk. Not a test helper: the tests build their weights in
// quantized_weights.h, from known values.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/repack.h"
#include "bonsai/tensor_type.h"

namespace bonsai::test {

// Random native blocks: random code bytes, then every block's fp16 scale set to a small random value.
inline std::vector<uint8_t> random_weight(TensorType type, int64_t n_in, int64_t n_out, std::mt19937& rng) {
    const int64_t ne[4] = {n_in, n_out, 1, 1};
    std::vector<uint8_t> buf(tensor_nbytes(type, ne));
    for (size_t i = 0; i + 4 <= buf.size(); i += 4) {
        const uint32_t r = rng();
        std::memcpy(&buf[i], &r, 4);
    }
    size_t bs = 0, off = 0, per = 0;  // block bytes, scale offset, elements per block
    switch (type) {
        case TensorType::Q1_0: bs = 18, off = 0, per = 128; break;
        case TensorType::Q2_0: bs = 18, off = 0, per = 64; break;
        case TensorType::TQ2_0: bs = 66, off = 64, per = 256; break;
        case TensorType::TQ1_0: bs = 54, off = 52, per = 256; break;
        default: std::fprintf(stderr, "unsupported type\n"); std::exit(2);
    }
    std::uniform_real_distribution<float> ud(0.005f, 0.02f);
    const size_t nb = static_cast<size_t>(n_in * n_out) / per;
    for (size_t b = 0; b < nb; ++b) {
        const uint16_t h = fp32_to_fp16(ud(rng));
        std::memcpy(&buf[b * bs + off], &h, 2);
    }
    if (type == TensorType::TQ1_0)  // trit bytes must stay below 243 (3^5) to be valid codes
        for (size_t b = 0; b < nb; ++b)
            for (int j = 0; j < 52; ++j) buf[b * bs + static_cast<size_t>(j)] %= 243;
    return buf;
}

// A weight and the bytes it points into.
struct OwnedWeight {
    std::vector<uint8_t> bytes;
    cpu::Weight w;
};

// random_weight in the layout model/weights.cpp gives it at load (cpu::preferred_layout for the active
// ISA; BONSAI_BENCH_NATIVE=1 keeps the native blocks, to compare).
inline OwnedWeight loader_weight(TensorType type, int64_t n_in, int64_t n_out, std::mt19937& rng) {
    OwnedWeight o;
    o.bytes = random_weight(type, n_in, n_out, rng);
    o.w = cpu::Weight{type, o.bytes.data(), n_in, n_out, cpu::Layout::Native};
    const cpu::Layout target =
        std::getenv("BONSAI_BENCH_NATIVE") ? cpu::Layout::Native : cpu::preferred_layout(type, n_in, n_out, cpu::active_isa());
    if (target == cpu::Layout::Native) return o;
    std::vector<uint8_t> repacked(o.bytes.size());
    cpu::repack_r16(o.w, repacked.data(), target);
    o.bytes.swap(repacked);
    o.w = cpu::Weight{type, o.bytes.data(), n_in, n_out, target};
    return o;
}

// The tensor type named `name` (as GGUF spells it), or exit with status 2.
inline TensorType type_or_exit(const std::string& name) {
    const auto t = tensor_type_from_name(name);
    if (!t) {
        std::fprintf(stderr, "unknown type %s\n", name.c_str());
        std::exit(2);
    }
    return *t;
}

// "a,b,,c" -> {"a", "b", "c"}.
inline std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> v;
    size_t a = 0;
    while (a <= s.size()) {
        const size_t b = std::min(s.find(',', a), s.size());
        if (b > a) v.push_back(s.substr(a, b - a));
        a = b + 1;
    }
    return v;
}

// Walks argv: `for (ArgCursor c{argc, argv}; c.next();)`, c.flag() the current argument, c.value() the
// one after it (exits with status 2, naming the flag, when there is none).
struct ArgCursor {
    int argc;
    char** argv;
    int i = 0;
    bool next() { return ++i < argc; }
    std::string flag() const { return argv[i]; }
    std::string value() {
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s needs a value\n", argv[i]);
            std::exit(2);
        }
        return argv[++i];
    }
};

}  // namespace bonsai::test
