#version 450
// Tensor-core matmul (VK_NV_cooperative_matrix; selected by the backend only when the device reports
// an (f16, f16, f32, f32) 16x16x16 subgroup shape, see coop_matrix.cpp). Same contract as matmul.comp:
// Y[c][r] = dot(W[r], X[c]). Each 256-thread workgroup (8 subgroups of 32) computes a 128 x 64 tile
// of (rows x columns); K is walked in steps of 32: W is dequantized and X converted to f16 into shared
// memory (rows padded to 40 halves against bank conflicts), then each subgroup multiplies its 32 x 32
// part as 2 x 2 fragments of 16 x 16 with f32 accumulators. Results leave through a per-subgroup
// 16 x 16 shared scratch so that partial tiles need no special case.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
#define WG 256
#define TR 128u
#define TC 64u
#define TK 32u
#define LDS 40u
#include "common.glsl"

layout(std430, binding = 1) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 2) writeonly buffer Ybuf { float yv[]; };
layout(push_constant) uniform PC {
    uint w_base;      // bytes (block types) or elements (F32/F16)
    uint row_stride;  // same unit
    uint ne0;
    uint rows;
    uint x_off;       // floats
    uint y_off;       // floats
    uint ncols;
} pc;

#include "dequant.glsl"

shared float16_t ws16[TR * LDS];
shared float16_t xs16[TC * LDS];
shared float cs[8u * 256u];

// Writes one 16 x 16 accumulator (tile rows fr.., columns fc..) through this subgroup's scratch,
// skipping rows/columns outside Y. Called in subgroup-uniform control flow.
void store_fragment(fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> a, uint fr, uint fc) {
    uint sbase = gl_SubgroupID * 256u;
    uint r0 = gl_WorkGroupID.x * TR + fr, c0 = gl_WorkGroupID.y * TC + fc;
    coopMatStoreNV(a, cs, sbase, 16u, true);  // column major: (m, n) at n * 16 + m
    subgroupMemoryBarrierShared();
    subgroupBarrier();
    for (uint e = gl_SubgroupInvocationID; e < 256u; e += gl_SubgroupSize) {
        uint r = r0 + e % 16u, c = c0 + e / 16u;
        if (r < pc.rows && c < pc.ncols) yv[pc.y_off + c * pc.rows + r] = cs[sbase + e];
    }
    subgroupMemoryBarrierShared();
    subgroupBarrier();
}

void main() {
    uint r0 = gl_WorkGroupID.x * TR;
    uint c0 = gl_WorkGroupID.y * TC;
    uint t = gl_LocalInvocationID.x;
    uint sg = gl_SubgroupID;        // 0..7 (subgroup size 32 is a selection condition)
    uint sr = (sg % 4u) * 32u;      // this subgroup's 32 rows of the tile
    uint sc = (sg / 4u) * 32u;      // and 32 columns
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc00 = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc01 = acc00, acc10 = acc00, acc11 = acc00;
    for (uint k0 = 0u; k0 < pc.ne0; k0 += TK) {
        // Loader: element e = i * 256 + t of the tile is (row e / 32, k e % 32): a subgroup reads 32
        // consecutive k of one row (one block of W, 128 contiguous bytes of X).
        [[unroll]] for (uint i = 0u; i < 16u; ++i) {
            uint e = i * 256u + t;
            uint rr = e / TK, kk = e % TK;
            uint r = r0 + rr, k = k0 + kk;
            ws16[rr * LDS + kk] = float16_t((r < pc.rows && k < pc.ne0) ? deq(pc.w_base + r * pc.row_stride, k) : 0.0);
        }
        [[unroll]] for (uint i = 0u; i < 8u; ++i) {
            uint e = i * 256u + t;
            uint cc = e / TK, kk = e % TK;
            uint c = c0 + cc, k = k0 + kk;
            xs16[cc * LDS + kk] = float16_t((c < pc.ncols && k < pc.ne0) ? xv[pc.x_off + c * pc.ne0 + k] : 0.0);
        }
        barrier();
        [[unroll]] for (uint ks = 0u; ks < TK; ks += 16u) {
            fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a0, a1, b0, b1;
            // A = W rows (row major: (m, k) at m * LDS + k); B = X^T ((k, n) at n * LDS + k: column major).
            coopMatLoadNV(a0, ws16, (sr + 0u) * LDS + ks, LDS, false);
            coopMatLoadNV(a1, ws16, (sr + 16u) * LDS + ks, LDS, false);
            coopMatLoadNV(b0, xs16, (sc + 0u) * LDS + ks, LDS, true);
            coopMatLoadNV(b1, xs16, (sc + 16u) * LDS + ks, LDS, true);
            acc00 = coopMatMulAddNV(a0, b0, acc00);
            acc01 = coopMatMulAddNV(a0, b1, acc01);
            acc10 = coopMatMulAddNV(a1, b0, acc10);
            acc11 = coopMatMulAddNV(a1, b1, acc11);
        }
        barrier();
    }
    store_fragment(acc00, sr, sc);
    store_fragment(acc01, sr, sc + 16u);
    store_fragment(acc10, sr + 16u, sc);
    store_fragment(acc11, sr + 16u, sc + 16u);
}
