#pragma once
// The loop every SIMD matmul kernel runs over its rows and tokens: blocks of 16 rows (they stay in L1
// while every token tile passes over them) × tiles of up to MaxTile tokens (the register tile). The
// tile size is a compile-time constant for the kernel, so the callback gets it as
// std::integral_constant<int, NT>. ISA-neutral; each kernel file instantiates it with its own tiles.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "backend/cpu/matmul.h"
#include "backend/cpu/r16l_layout.h"

namespace bonsai::cpu::detail {

constexpr int64_t kRowBlockRows = 16;

// f(std::integral_constant<int, N>{}) with N = nt, for 1 <= nt <= Max.
template <int Max, class F>
inline void with_tile_size(int64_t nt, const F& f) {
    if constexpr (Max == 1) {
        f(std::integral_constant<int, 1>{});
    } else {
        if (nt >= Max) return f(std::integral_constant<int, Max>{});
        with_tile_size<Max - 1>(nt, f);
    }
}

// Rows [ob, oe) of an R16 weight (Q1 = Q1_0, else Q2_0; repack.h) against tokens t0 .. t0 + NT - 1:
// tile(codes, scales, nc, xa, r) computes one row's NT results r from its nc chunks of codes and fp16
// scales and the tokens' R16 activations xa (Activations::aux); they go to y[t·n_out + o]. The AVX2 and
// AVX-512 files walk rows this way with their own tiles.
template <bool Q1, int NT, class Tile>
inline void r16_row_walk(const Weight& w, const Activations& a, int64_t ob, int64_t oe, int64_t t0, float* y, const Tile& tile) {
    const int64_t nc = w.n_in / 512, n_out = w.n_out;
    constexpr int CB = Q1 ? 64 : 128, NS = Q1 ? 4 : 8;
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(w.data + n_out * nc * CB);
    const uint8_t* xa[NT];
    for (int t = 0; t < NT; ++t) xa[t] = a.aux(t0 + t);
    for (int64_t o = ob; o < oe; ++o) {
        float r[NT];
        tile(w.data + o * nc * CB, scales + o * nc * NS, nc, xa, r);
        for (int t = 0; t < NT; ++t) y[(t0 + t) * n_out + o] = r[t];
    }
}

// tile(nt, ob, oe, t0) for rows [ob, oe) and tokens [t0, t0 + nt) covering rows [o0, o1) × n_tok tokens.
template <int MaxTile, class Tile>
inline void for_each_tile(int64_t o0, int64_t o1, int64_t n_tok, const Tile& tile) {
    for (int64_t ob = o0; ob < o1; ob += kRowBlockRows) {
        const int64_t oe = std::min(ob + kRowBlockRows, o1);
        for (int64_t t0 = 0; t0 < n_tok; t0 += MaxTile)
            with_tile_size<MaxTile>(std::min<int64_t>(MaxTile, n_tok - t0), [&](auto nt) { tile(nt, ob, oe, t0); });
    }
}

// The R16L / R32L table kernels walk K slices outermost and the row blocks of [o0, o1) inside each slice
// (kernels_avx512_vbmi.cpp, kernels_avx2_table.cpp). Their slices: the most blocks whose tables
// (table_bytes per block and token, `group` tokens) fit slice_bytes, a power of two from 4 to
// kR16LSliceBlocks so that a slice never crosses a stored one (r16l_layout.h).
inline int64_t r16l_pass_blocks(int64_t slice_bytes, int64_t table_bytes, int64_t group) {
    int64_t n = kR16LSliceBlocks;
    while (n > 4 && n * table_bytes * group > slice_bytes) n /= 2;
    return n;
}

// The codes they read after block rb's part of slice [s0, s0 + ns): the next block's part of the same
// slice, after the range's last block the first block's part of the next slice. When a pass covers a
// whole stored slice (decode), that is the next ns·4·Rows bytes. Decode prefetches from here.
template <int Rows>
inline const uint8_t* r16l_next_codes(const R16LView<const uint8_t, Rows>& view, int64_t rb, int64_t o0, int64_t o1,
                                      int64_t s0, int64_t ns) {
    if ((rb + 1) * Rows < o1 || s0 + ns >= view.nb) return view.codes(rb + 1, s0);
    return view.codes(o0 / Rows, s0 + ns);
}

}  // namespace bonsai::cpu::detail
