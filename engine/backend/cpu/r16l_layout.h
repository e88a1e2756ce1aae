#pragma once
// Addresses inside a Layout::R16L or R32L weight (repack.h): 16- or 32-row blocks of Q1_0 codes stored K
// slice by K slice.
//
// Why slices: the table kernels (kernels_avx512_vbmi.cpp, kernels_avx2_table.cpp) keep one slice's tables
// (256 bytes per 32-element activation block and token) in L1D, so rows longer than one slice are walked
// slice by slice, each slice over every row block of the thread's range. When each row block's codes lay
// whole one after another, that walk read 4 KiB pieces 8 KiB apart (6144-wide rows), which the prefetchers
// handle badly: the 1.7B down projection streamed 40 GB/s against 57 for the 2048-wide matrices (Zen 5, 2
// threads). Stored slice-major, a range's part of one slice is one contiguous run (50 GB/s in the same
// measurement). Rows of at most one slice (2048 elements) are laid out exactly as before.
//
//   codes:  slice L (blocks [64L, 64L + wL), wL = min(64, nb - 64L)) starts at block 64L·n_rb; inside it
//           row block rb's wL vectors follow each other: vector (rb, b) at (64L·n_rb + rb·wL + b - 64L)·V,
//           V = 4·Rows bytes (64 for R16L, 128 for R32L).
//   scales: after the codes (n_rb·nb·V bytes), the same order in groups of 4 blocks (Rows fp16 each).
#include <cstdint>
#include <type_traits>

namespace bonsai::cpu {

// Activation blocks (of 32 weights) per stored K slice. The kernels' own slices must divide it.
constexpr int64_t kR16LSliceBlocks = 64;

// Index of unit (rb, b) among the n_rb·nb units of a weight stored K slice by K slice: slices of `slice`
// blocks (the last one possibly narrower), the row blocks of a slice one after another.
constexpr int64_t slice_major_index(int64_t nb, int64_t n_rb, int64_t slice, int64_t rb, int64_t b) {
    const int64_t s0 = b / slice * slice;
    const int64_t width = nb - s0 < slice ? nb - s0 : slice;
    return s0 * n_rb + rb * width + (b - s0);
}

// Where the codes and scales of an R16L (Rows = 16) or R32L (Rows = 32) weight of nb = n_in / 32 blocks
// (a multiple of 16) and n_rb = n_out / Rows row blocks lie.
template <typename Byte, int Rows = 16>
struct R16LView {
    Byte* data;
    int64_t nb;
    int64_t n_rb;

    // Position of vector (rb, b) among all code vectors.
    int64_t index(int64_t rb, int64_t b) const { return slice_major_index(nb, n_rb, kR16LSliceBlocks, rb, b); }
    // The 4·Rows-byte code vector of row block rb and block b. Vectors b .. b + k of one row block are
    // contiguous as long as they stay inside one stored slice.
    Byte* codes(int64_t rb, int64_t b) const { return data + index(rb, b) * 4 * Rows; }
    // The Rows fp16 scales (one per row) of the 4-block group starting at block b (b % 4 == 0); the
    // groups of one row block inside one slice are contiguous too.
    auto* scales(int64_t rb, int64_t b) const {
        using Half = std::conditional_t<std::is_const_v<Byte>, const uint16_t, uint16_t>;
        return reinterpret_cast<Half*>(data + n_rb * nb * 4 * Rows) + index(rb, b) / 4 * Rows;
    }
};
template <typename Byte>
using R32LView = R16LView<Byte, 32>;

// Where unit (rb, b) of an R32T weight (repack.h) lies: the 2048 code bytes and 32 fp16 scales of TQ2_0
// block b of row block rb, units stored K slice by K slice (slices of kSliceBlocks blocks, the last one
// possibly narrower), the row blocks of a slice one after another.
template <typename Byte>
struct R32TView {
    static constexpr int64_t kSliceBlocks = 4;    // 1024 elements: one token's tables are 16 KiB
    static constexpr int64_t kUnitBytes = 2112;   // 32 rows × 66 bytes
    Byte* data;
    int64_t nb;    // TQ2_0 blocks per row (n_in / 256)
    int64_t n_rb;  // row blocks (n_out / 32)

    int64_t index(int64_t rb, int64_t b) const { return slice_major_index(nb, n_rb, kSliceBlocks, rb, b); }
    // Code byte m (m < 64: native qs byte m) of the 32 rows at unit + 32m + r32l_pos(r); scales at 2048.
    Byte* unit(int64_t rb, int64_t b) const { return data + index(rb, b) * kUnitBytes; }
};

}  // namespace bonsai::cpu
