#pragma once
// Software prefetch for one-token (decode) kernels on x86: include only from files compiled for x86.
//
// Why: decode reads every weight exactly once, each row block as one forward stream. The hardware
// prefetchers follow such a stream, but start too late for kernels that consume a cache line in a few
// cycles; asking for the line 4 KiB ahead into L2 keeps enough misses in flight. Zen 5, 2 threads, 1.7B
// decode (ABBA): Q2_0 +7-14 %, TQ2_0 +11-16 % (docs/performance.md, session 11). On Zen 4 the same
// request measured 10-15 % slower for Q2_0, so the distance is a measured choice, not a law.
#include <immintrin.h>

#include <cstdint>

namespace bonsai::cpu::detail {

constexpr int kDecodePrefetchBytes = 4096;

// Asks for the Bytes bytes that lie kDecodePrefetchBytes after p, one request per 64-byte line.
template <int Bytes>
inline void prefetch_ahead(const uint8_t* p) {
    for (int i = 0; i < Bytes; i += 64) _mm_prefetch(reinterpret_cast<const char*>(p + kDecodePrefetchBytes + i), _MM_HINT_T1);
}

}  // namespace bonsai::cpu::detail
