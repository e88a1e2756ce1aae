// The one-token Q2_0 R16 rows on AVX2, in a file of their own so that they are built without the
// pressure-aware scheduling that kernels_avx2.cpp gets for its prompt tiles: with it this decode measured
// 2-5 % slower (Zen 3, 1.7B Q2_0 tg128, alternated: 56.5 against 58.1 and 49.3 against 51.9 tok/s), the
// prompt tiles 27 % faster. Compiled alone with -mavx2 -mfma -mf16c.
#include "backend/cpu/kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "backend/cpu/kernels_avx2_r16.h"

namespace bonsai::cpu::detail {

void q2_0_r16_decode_avx2(const Weight& w, const Activations& a, int64_t o0, int64_t o1, float* y) {
    r16_rows<false, 1>(w, a, o0, o1, 0, y);
}

}  // namespace bonsai::cpu::detail
#else
#include "bonsai/error.h"
namespace bonsai::cpu::detail {
// Not an x86 build: active_isa() is never Avx2 there.
void q2_0_r16_decode_avx2(const Weight&, const Activations&, int64_t, int64_t, float*) {
    throw Error("matmul: the AVX2 Q2_0 decode rows called on a build without AVX2");
}
}  // namespace bonsai::cpu::detail
#endif
