#include "backend/cpu/repack.h"

#include <cstring>

#include "bonsai/error.h"

namespace bonsai::cpu {

bool r16_eligible(TensorType type, int64_t n_in) {
    return (type == TensorType::Q1_0 || type == TensorType::Q2_0) && n_in > 0 && n_in % 512 == 0;
}

int r16_code_bytes(TensorType type) { return type == TensorType::Q1_0 ? 64 : 128; }
int r16_scales(TensorType type) { return type == TensorType::Q1_0 ? 4 : 8; }

namespace {

inline void set_native_code(TensorType t, uint8_t* row, int64_t e, int code) {
    if (t == TensorType::Q1_0) {
        uint8_t* b = row + (e / 128) * 18 + 2;
        const int j = static_cast<int>(e % 128);
        b[j >> 3] = static_cast<uint8_t>(b[j >> 3] | (code << (j & 7)));
        return;
    }
    uint8_t* b = row + (e / 64) * 18 + 2;
    const int j = static_cast<int>(e % 64);
    b[j >> 2] = static_cast<uint8_t>(b[j >> 2] | (code << (2 * (j & 3))));
}

// Position of step s / lane i / byte p inside a chunk's code bytes, and the bit shift of its code.
inline void r16_pos(TensorType t, int i, int s, int p, int& byte, int& shift) {
    if (t == TensorType::Q1_0) {
        byte = 4 * i + p;
        shift = s;
    } else {
        byte = 64 * (s / 4) + 4 * i + p;
        shift = 2 * (s % 4);
    }
}

}  // namespace

void repack_r16(const Weight& w, uint8_t* out) {
    if (w.layout != Layout::Native || !r16_eligible(w.type, w.n_in)) throw Error("repack: weight is not R16-eligible");
    const int64_t nc = w.n_in / 512;
    const int CB = r16_code_bytes(w.type), NS = r16_scales(w.type);
    const bool q1 = w.type == TensorType::Q1_0;
    const int group = q1 ? 128 : 64;
    const size_t rb = row_nbytes(w.type, w.n_in);
    uint8_t* codes = out;
    uint8_t* scales = out + static_cast<size_t>(w.n_out * nc * CB);
    uint8_t code[512];
    for (int64_t o = 0; o < w.n_out; ++o) {
        const uint8_t* row = w.data + rb * static_cast<size_t>(o);
        for (int64_t c = 0; c < nc; ++c) {
            // Decode the chunk's 512 codes byte by byte (this runs over every weight at load).
            for (int k = 0; k < 512 / group; ++k) {
                const uint8_t* qs = row + ((512 * c) / group + k) * 18 + 2;
                uint8_t* dst = code + k * group;
                if (q1) {
                    for (int j = 0; j < 16; ++j)
                        for (int b = 0; b < 8; ++b) dst[8 * j + b] = static_cast<uint8_t>((qs[j] >> b) & 1);
                } else {
                    for (int j = 0; j < 16; ++j)
                        for (int b = 0; b < 4; ++b) dst[4 * j + b] = static_cast<uint8_t>((qs[j] >> (2 * b)) & 3);
                }
            }
            uint8_t* cb = codes + (o * nc + c) * CB;
            std::memset(cb, 0, static_cast<size_t>(CB));
            for (int s = 0; s < 8; ++s) {
                const int base = q1 ? 0 : 64 * (s / 4), shift = q1 ? s : 2 * (s % 4);
                for (int i = 0; i < 16; ++i)
                    for (int p = 0; p < 4; ++p)
                        cb[base + 4 * i + p] = static_cast<uint8_t>(cb[base + 4 * i + p] | (code[32 * i + 4 * s + p] << shift));
            }
            for (int k = 0; k < NS; ++k)
                std::memcpy(scales + 2 * ((o * nc + c) * NS + k), row + ((512 * c) / group + k) * 18, 2);
        }
    }
}

void unpack_row_r16(const Weight& w, int64_t o, uint8_t* row) {
    const int64_t nc = w.n_in / 512;
    const int CB = r16_code_bytes(w.type), NS = r16_scales(w.type);
    const int group = w.type == TensorType::Q1_0 ? 128 : 64;
    std::memset(row, 0, row_nbytes(w.type, w.n_in));
    const uint8_t* codes = w.data;
    const uint8_t* scales = w.data + static_cast<size_t>(w.n_out * nc * CB);
    for (int64_t c = 0; c < nc; ++c) {
        const uint8_t* cb = codes + (o * nc + c) * CB;
        for (int i = 0; i < 16; ++i)
            for (int s = 0; s < 8; ++s)
                for (int p = 0; p < 4; ++p) {
                    int byte = 0, shift = 0;
                    r16_pos(w.type, i, s, p, byte, shift);
                    const int mask = w.type == TensorType::Q1_0 ? 1 : 3;
                    set_native_code(w.type, row, 512 * c + 32 * i + 4 * s + p, (cb[byte] >> shift) & mask);
                }
        for (int k = 0; k < NS; ++k)
            std::memcpy(row + ((512 * c) / group + k) * 18, scales + 2 * ((o * nc + c) * NS + k), 2);
    }
}

}  // namespace bonsai::cpu
