#include "backend/cpu/repack.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backend/cpu/r16l_layout.h"
#include "backend/cpu/ternary_decode.h"
#include "bonsai/error.h"

namespace bonsai::cpu {

bool r16_eligible(TensorType type, int64_t n_in) {
    if (type == TensorType::TQ2_0) return n_in > 0 && n_in % 2048 == 0;
    return (type == TensorType::Q1_0 || type == TensorType::Q2_0) && n_in > 0 && n_in % 512 == 0;
}

bool r16l_eligible(TensorType type, int64_t n_in, int64_t n_out) {
    return type == TensorType::Q1_0 && r16_eligible(type, n_in) && n_out > 0 && n_out % 16 == 0;
}

bool r32l_eligible(TensorType type, int64_t n_in, int64_t n_out) {
    return type == TensorType::Q1_0 && r16_eligible(type, n_in) && n_out > 0 && n_out % 32 == 0;
}

bool r32t_eligible(TensorType type, int64_t n_in, int64_t n_out) {
    return type == TensorType::TQ2_0 && n_in > 0 && n_in % 256 == 0 && n_out > 0 && n_out % 32 == 0;
}

Layout preferred_layout(TensorType type, int64_t n_in, int64_t n_out, Isa isa) {
    if (isa == Isa::Avx2 && r32t_eligible(type, n_in, n_out)) return Layout::R32T;
    if (isa == Isa::Scalar || !r16_eligible(type, n_in)) return Layout::Native;
    if (type == TensorType::TQ2_0) return isa == Isa::Avx512 ? Layout::R16T : Layout::Native;
    if (type != TensorType::Q1_0) return Layout::R16;
    static const bool mask_only = [] {
        const char* e = std::getenv("BONSAI_CPU_Q1_LAYOUT");
        return e != nullptr && std::string(e) == "mask";
    }();
    if (isa == Isa::Avx2) return !mask_only && r32l_eligible(type, n_in, n_out) ? Layout::R32L : Layout::R16;
    const bool table = has_avx512_vbmi() && !mask_only && r16l_eligible(type, n_in, n_out);
    return table ? Layout::R16L : Layout::R16M;
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
inline void r16_pos(TensorType t, Layout l, int i, int s, int p, int& byte, int& shift) {
    if (t == TensorType::Q1_0 && l == Layout::R16M) {
        const int j = 4 * i + p;  // bit j of the 64-bit mask of step s
        byte = 8 * s + j / 8;
        shift = j % 8;
    } else if (t == TensorType::Q1_0) {
        byte = 4 * i + p;
        shift = s;
    } else {
        byte = 64 * (s / 4) + 4 * i + p;
        shift = 2 * (s % 4);
    }
}

}  // namespace

namespace {

// Chunk (o, c) of a Q1_0 row in the mask form straight from the native bits: with w32[i] = elements
// 32i..32i+31 of the chunk (LSB first, as the GGUF blocks store them), the mask of step s is nibble s
// of every w32[i], nibble i of the result.
void repack_q1_mask_chunk(const uint8_t* row, int64_t c, uint8_t* cb) {
    uint32_t w32[16];
    for (int i = 0; i < 16; ++i) std::memcpy(&w32[i], row + (4 * c + i / 4) * 18 + 2 + 4 * (i % 4), 4);
    for (int s = 0; s < 8; ++s) {
        uint64_t m = 0;
        for (int i = 0; i < 16; ++i) m |= static_cast<uint64_t>((w32[i] >> (4 * s)) & 0xF) << (4 * i);
        for (int b = 0; b < 8; ++b) cb[8 * s + b] = static_cast<uint8_t>(m >> (8 * b));  // little-endian word
    }
}

// Rows [o0, o1) of a TQ2_0 weight into R16T (repack.h). Element 128h + 16v + 4l + p of a block (lane
// 2b + h, step 4v + l, byte p) is native element 128h + 32(v/2) + m with m = 16(v%2) + 4l + p, i.e. bits
// 2(v/2) of qs[32h + m]: so the 4 code bytes of (v, lane) are built from four 32-bit words of qs at once.
void repack_rows_tq2(const Weight& w, uint8_t* out, int64_t o0, int64_t o1) {
    const int64_t nc = w.n_in / 2048;
    const size_t rb = row_nbytes(w.type, w.n_in);
    uint8_t* scales = out + static_cast<size_t>(w.n_out * nc * 512);
    for (int64_t o = o0; o < o1; ++o) {
        const uint8_t* row = w.data + rb * static_cast<size_t>(o);
        for (int64_t c = 0; c < nc; ++c) {
            uint8_t* cb = out + (o * nc + c) * 512;
            for (int b = 0; b < 8; ++b) {
                const uint8_t* blk = row + (8 * c + b) * 66;
                std::memcpy(scales + 2 * ((o * nc + c) * 8 + b), blk + 64, 2);
                for (int h = 0; h < 2; ++h)
                    for (int v = 0; v < 8; ++v) {
                        uint32_t word = 0;
                        for (int l = 0; l < 4; ++l) {
                            uint32_t q;
                            std::memcpy(&q, blk + 32 * h + 16 * (v % 2) + 4 * l, 4);
                            word |= ((q >> (2 * (v / 2))) & 0x03030303u) << (2 * l);
                        }
                        std::memcpy(cb + 64 * v + 4 * (2 * b + h), &word, 4);
                    }
            }
        }
    }
}

// Native row `o` of an R16T weight. TQ2_0 element e = 128h + 32l + m is bits 2l of qs[32h + m] (formats.md).
void unpack_row_tq2(const Weight& w, int64_t o, uint8_t* row) {
    const int64_t nc = w.n_in / 2048;
    const uint8_t* scales = w.data + static_cast<size_t>(w.n_out * nc * 512);
    std::memset(row, 0, row_nbytes(w.type, w.n_in));
    for (int64_t c = 0; c < nc; ++c) {
        const uint8_t* cb = w.data + (o * nc + c) * 512;
        for (int b = 0; b < 8; ++b) {
            uint8_t* blk = row + (8 * c + b) * 66;
            std::memcpy(blk + 64, scales + 2 * ((o * nc + c) * 8 + b), 2);
            for (int h = 0; h < 2; ++h)
                for (int st = 0; st < 32; ++st)
                    for (int p = 0; p < 4; ++p) {
                        const int code = (cb[64 * (st / 4) + 4 * (2 * b + h) + p] >> (2 * (st % 4))) & 3;
                        const int e = 128 * h + 4 * st + p;
                        uint8_t& dst = blk[32 * (e / 128) + e % 32];
                        dst = static_cast<uint8_t>(dst | (code << (2 * ((e % 128) / 32))));
                    }
        }
    }
}

// Rows [o0, o1) (whole 32-row blocks) of a TQ2_0 weight into R32T (repack.h): a byte transpose.
void repack_rows_tq2_r32t(const Weight& w, uint8_t* out, int64_t o0, int64_t o1) {
    const int64_t nb = w.n_in / 256;
    const size_t rb = row_nbytes(w.type, w.n_in);
    const R32TView<uint8_t> view{out, nb, w.n_out / 32};
    for (int64_t o = o0; o < o1; ++o) {
        const uint8_t* row = w.data + rb * static_cast<size_t>(o);
        const int r = static_cast<int>(o % 32), pos = r32l_pos(r);
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* u = view.unit(o / 32, b);
            const uint8_t* blk = row + 66 * b;
            for (int m = 0; m < 64; ++m) u[32 * m + pos] = blk[m];
            std::memcpy(u + 2048 + 2 * r, blk + 64, 2);
        }
    }
}

// Native row `o` of an R32T weight.
void unpack_row_tq2_r32t(const Weight& w, int64_t o, uint8_t* row) {
    const int64_t nb = w.n_in / 256;
    const R32TView<const uint8_t> view{w.data, nb, w.n_out / 32};
    const int r = static_cast<int>(o % 32), pos = r32l_pos(r);
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* u = view.unit(o / 32, b);
        uint8_t* blk = row + 66 * b;
        for (int m = 0; m < 64; ++m) blk[m] = u[32 * m + pos];
        std::memcpy(blk + 64, u + 2048 + 2 * r, 2);
    }
}

// Where byte column j (j < 4) of row r of a Rows-row block lies inside its code vector: R16L byte 4r + j,
// R32L byte 32j + r32l_pos(r) (repack.h).
template <int Rows>
constexpr int table_byte(int r, int j) {
    if constexpr (Rows == 16) return 4 * r + j;
    else return 32 * j + r32l_pos(r);
}

// Rows [o0, o1) (whole row blocks) of a Q1_0 weight into R16L (Rows = 16) or R32L (Rows = 32), repack.h.
// Block b's 32 codes are bits 0..31 of qs[4(b%4) .. 4(b%4)+3] of native block b/4 (LSB first); quad q is
// their nibble q, byte column j holds quads j (low nibble) and j + 4 (high).
template <int Rows>
void repack_rows_q1_table(const Weight& w, uint8_t* out, int64_t o0, int64_t o1) {
    const int64_t nb = w.n_in / 32;
    const size_t rb = row_nbytes(w.type, w.n_in);
    const R16LView<uint8_t, Rows> view{out, nb, w.n_out / Rows};
    for (int64_t o = o0; o < o1; ++o) {
        const uint8_t* row = w.data + rb * static_cast<size_t>(o);
        const int64_t blk = o / Rows;
        const int r = static_cast<int>(o % Rows);
        for (int64_t b = 0; b < nb; ++b) {
            uint32_t w32;
            std::memcpy(&w32, row + (b / 4) * 18 + 2 + 4 * (b % 4), 4);
            uint8_t* v = view.codes(blk, b);
            for (int j = 0; j < 4; ++j)
                v[table_byte<Rows>(r, j)] = static_cast<uint8_t>(((w32 >> (4 * j)) & 0xF) | (((w32 >> (4 * j + 16)) & 0xF) << 4));
        }
        for (int64_t b = 0; b < nb; b += 4) std::memcpy(view.scales(blk, b) + r, row + (b / 4) * 18, 2);
    }
}

// Native row `o` of an R16L / R32L weight (the inverse of repack_rows_q1_table).
template <int Rows>
void unpack_row_q1_table(const Weight& w, int64_t o, uint8_t* row) {
    const int64_t nb = w.n_in / 32, blk = o / Rows;
    const int r = static_cast<int>(o % Rows);
    const R16LView<const uint8_t, Rows> view{w.data, nb, w.n_out / Rows};
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* v = view.codes(blk, b);
        uint32_t w32 = 0;
        for (int j = 0; j < 4; ++j) {
            const uint8_t c = v[table_byte<Rows>(r, j)];
            w32 |= (static_cast<uint32_t>(c & 0xF) << (4 * j)) | (static_cast<uint32_t>(c >> 4) << (4 * j + 16));
        }
        std::memcpy(row + (b / 4) * 18 + 2 + 4 * (b % 4), &w32, 4);
    }
    for (int64_t b = 0; b < nb; b += 4) std::memcpy(row + (b / 4) * 18, view.scales(blk, b) + r, 2);
}

// f(o0, o1) over rows [0, n) split over the machine's cores: load time scales with the model, so large
// tensors (`work` weights) are cut into one contiguous part per thread, each a multiple of `align` rows.
template <class F>
void split_over_cores(int64_t n, int64_t work, int64_t align, const F& f) {
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const int64_t n_threads = std::min<int64_t>({static_cast<int64_t>(hw), 16, n, std::max<int64_t>(1, work >> 22)});
    if (n_threads <= 1) {
        f(0, n);
        return;
    }
    const int64_t per = ((n + n_threads - 1) / n_threads + align - 1) / align * align;
    std::vector<std::thread> threads;
    for (int64_t t = 1; t < n_threads; ++t) {
        const int64_t o0 = t * per, o1 = std::min(n, o0 + per);
        if (o0 < o1) threads.emplace_back([&f, o0, o1] { f(o0, o1); });
    }
    f(0, std::min(n, per));
    for (auto& th : threads) th.join();
}

// Rows [o0, o1) of repack_r16.
void repack_rows(const Weight& w, uint8_t* out, Layout target, int64_t o0, int64_t o1) {
    if (target == Layout::R16L || target == Layout::R32L) {
        (target == Layout::R16L ? repack_rows_q1_table<16> : repack_rows_q1_table<32>)(w, out, o0, o1);
        return;
    }
    if (w.type == TensorType::TQ2_0) {
        repack_rows_tq2(w, out, o0, o1);
        return;
    }
    const int64_t nc = w.n_in / 512;
    const int CB = r16_code_bytes(w.type), NS = r16_scales(w.type);
    const bool q1 = w.type == TensorType::Q1_0;
    const int group = q1 ? 128 : 64;
    const size_t rb = row_nbytes(w.type, w.n_in);
    uint8_t* codes = out;
    uint8_t* scales = out + static_cast<size_t>(w.n_out * nc * CB);
    uint8_t code[512];
    for (int64_t o = o0; o < o1; ++o) {
        const uint8_t* row = w.data + rb * static_cast<size_t>(o);
        for (int64_t c = 0; c < nc; ++c) {
            uint8_t* cb = codes + (o * nc + c) * CB;
            for (int k = 0; k < NS; ++k)
                std::memcpy(scales + 2 * ((o * nc + c) * NS + k), row + ((512 * c) / group + k) * 18, 2);
            if (target == Layout::R16M) {
                repack_q1_mask_chunk(row, c, cb);
                continue;
            }
            // Decode the chunk's 512 codes byte by byte, then place them (the generic, slower path).
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
            std::memset(cb, 0, static_cast<size_t>(CB));
            for (int s = 0; s < 8; ++s)
                for (int i = 0; i < 16; ++i)
                    for (int p = 0; p < 4; ++p) {
                        int byte = 0, shift = 0;
                        r16_pos(w.type, target, i, s, p, byte, shift);
                        cb[byte] = static_cast<uint8_t>(cb[byte] | (code[32 * i + 4 * s + p] << shift));
                    }
        }
    }
}

}  // namespace

void repack_r16(const Weight& w, uint8_t* out, Layout target) {
    if (target == Layout::R32T) {
        if (w.layout != Layout::Native || !r32t_eligible(w.type, w.n_in, w.n_out))
            throw Error("repack: weight is not R32T-eligible (TQ2_0, rows a multiple of 32)");
        split_over_cores(w.n_out, w.n_out * w.n_in, 32, [&](int64_t o0, int64_t o1) { repack_rows_tq2_r32t(w, out, o0, o1); });
        return;
    }
    if (w.layout != Layout::Native || !r16_eligible(w.type, w.n_in) || target == Layout::Native ||
        (target == Layout::R16M && w.type != TensorType::Q1_0) || ((target == Layout::R16T) != (w.type == TensorType::TQ2_0)) ||
        (target == Layout::R16L && !r16l_eligible(w.type, w.n_in, w.n_out)) ||
        (target == Layout::R32L && !r32l_eligible(w.type, w.n_in, w.n_out)))
        throw Error("repack: weight is not R16-eligible");
    // R16L / R32L threads own whole row blocks.
    split_over_cores(w.n_out, w.n_out * w.n_in, target == Layout::R16L ? 16 : target == Layout::R32L ? 32 : 1,
                     [&](int64_t o0, int64_t o1) { repack_rows(w, out, target, o0, o1); });
}

bool tq1_as_tq2(Isa isa) { return isa == Isa::Avx2 || (isa == Isa::Avx512 && !has_avx512_vbmi()); }

namespace {
// One 54-byte TQ1_0 block as a 66-byte TQ2_0 block: element 128c + 32l + m has code bits 2l of qs[32c + m].
void tq1_block_to_tq2(const uint8_t* in, uint8_t* out) {
    int8_t v[256];
    detail::decode_tq1_0(in, v);
    std::memset(out, 0, 64);
    for (int e = 0; e < 256; ++e) out[32 * (e / 128) + e % 32] |= static_cast<uint8_t>((v[e] + 1) << (2 * ((e % 128) / 32)));
    std::memcpy(out + 64, in + 52, 2);
}
}  // namespace

void convert_tq1_to_tq2(const Weight& w, uint8_t* out) {
    if (w.type != TensorType::TQ1_0 || w.layout != Layout::Native || w.n_in % 256 != 0)
        throw Error("repack: only native TQ1_0 rows of whole blocks convert to TQ2_0");
    split_over_cores(w.n_out, w.n_out * w.n_in, 1, [&](int64_t o0, int64_t o1) {
        for (int64_t b = o0 * (w.n_in / 256); b < o1 * (w.n_in / 256); ++b) tq1_block_to_tq2(w.data + 54 * b, out + 66 * b);
    });
}

void unpack_row_r16(const Weight& w, int64_t o, uint8_t* row) {
    if (w.layout == Layout::R16L || w.layout == Layout::R32L) {
        (w.layout == Layout::R16L ? unpack_row_q1_table<16> : unpack_row_q1_table<32>)(w, o, row);
        return;
    }
    if (w.layout == Layout::R32T) {
        unpack_row_tq2_r32t(w, o, row);
        return;
    }
    if (w.type == TensorType::TQ2_0) {
        unpack_row_tq2(w, o, row);
        return;
    }
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
                    r16_pos(w.type, w.layout, i, s, p, byte, shift);
                    const int mask = w.type == TensorType::Q1_0 ? 1 : 3;
                    set_native_code(w.type, row, 512 * c + 32 * i + 4 * s + p, (cb[byte] >> shift) & mask);
                }
        for (int k = 0; k < NS; ++k)
            std::memcpy(row + ((512 * c) / group + k) * 18, scales + 2 * ((o * nc + c) * NS + k), 2);
    }
}

}  // namespace bonsai::cpu
