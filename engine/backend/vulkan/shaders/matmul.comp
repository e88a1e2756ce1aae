#version 450
// Y[c][r] = dot(W[r], X[c]) for a batch of columns (prefill). Each workgroup computes a 64 x 64 tile
// of (rows x columns); the K dimension is walked in steps of 32, the W and X slices are staged in
// shared memory (W dequantized once per tile), and each of the 256 threads accumulates 4 x 4 outputs
// (rows ty + 16i, columns tx + 16j), i.e. 16 FMAs per 8 shared-memory reads.
#define WG 256
#define TILE 64u
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

shared float ws[TILE][33];  // +1 column avoids shared-memory bank conflicts
shared float xs[TILE][33];

void main() {
    deq_init();
    uint r0 = gl_WorkGroupID.x * TILE;
    uint c0 = gl_WorkGroupID.y * TILE;
    uint t = gl_LocalInvocationID.x;
    uint tx = t % 16u, ty = t / 16u;
    uint lr = t / 4u, lk = (t % 4u) * 8u;  // loader: one tile row (of 64), 8 consecutive k
    float acc[4][4];
    for (uint i = 0u; i < 4u; ++i)
        for (uint j = 0u; j < 4u; ++j) acc[i][j] = 0.0;
    uint r = r0 + lr;
    uint c = c0 + lr;
    for (uint k0 = 0u; k0 < pc.ne0; k0 += 32u) {
        for (uint i = 0u; i < 8u; ++i) {
            uint k = k0 + lk + i;
            bool kin = k < pc.ne0;
            ws[lr][lk + i] = (r < pc.rows && kin) ? deq(pc.w_base + r * pc.row_stride, k) : 0.0;
            xs[lr][lk + i] = (c < pc.ncols && kin) ? xv[pc.x_off + c * pc.ne0 + k] : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < 32u; ++kk) {
            float w[4], x[4];
            for (uint i = 0u; i < 4u; ++i) w[i] = ws[ty + 16u * i][kk];
            for (uint j = 0u; j < 4u; ++j) x[j] = xs[tx + 16u * j][kk];
            for (uint i = 0u; i < 4u; ++i)
                for (uint j = 0u; j < 4u; ++j) acc[i][j] += w[i] * x[j];
        }
        barrier();
    }
    for (uint i = 0u; i < 4u; ++i) {
        uint rr = r0 + ty + 16u * i;
        if (rr >= pc.rows) continue;
        for (uint j = 0u; j < 4u; ++j) {
            uint cc = c0 + tx + 16u * j;
            if (cc < pc.ncols) yv[pc.y_off + cc * pc.rows + rr] = acc[i][j];
        }
    }
}
