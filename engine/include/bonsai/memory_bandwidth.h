#pragma once
// The host's memory read bandwidth, as a CPU decode step can use it: the roofline of
// `bonsai-cli bench` (decode tokens/s at most bandwidth ÷ bytes read per token).
#include <cstddef>

namespace bonsai {

// GB/s (1e9 bytes) of `threads` threads summing disjoint parts of one `bytes` buffer with the widest
// vector loads the CPU has (cpu::sum_u64), best of `reps` timed passes after one untimed pass.
// The buffer is read the way decode reads the repacked weights: 2 MiB pages (MADV_HUGEPAGE, as
// model/weight_arena.cpp asks for them) holding distinct values. Measured on a 2-vCPU Zen 5 VM, 1 GiB,
// 2 threads: 8-byte scalar loads read 40-65 GB/s (depending on whether the 4 KiB-page buffer happened to
// get huge pages), 32- or 64-byte vector loads ~78-80 GB/s; a buffer of identical pages (memset) read
// ~45 GB/s, presumably because the host merges identical pages.
// Throws bonsai::Error when the buffer cannot be allocated or threads < 1.
double measure_read_bandwidth(int threads, size_t bytes = size_t(1) << 30, int reps = 5);

}  // namespace bonsai
