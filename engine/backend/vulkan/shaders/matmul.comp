#version 450
// Y[c][r] = dot(W[r], X[c]) for a batch of columns (prefill). Each workgroup computes a 32 x 32 tile
// of (rows x columns); the K dimension is walked in steps of 32, the W and X slices are staged in
// shared memory (W dequantized once per tile), and each of the 256 threads accumulates 2 x 2 outputs.
#define WG 256
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

shared float ws[32][33];  // +1 column avoids shared-memory bank conflicts
shared float xs[32][33];

void main() {
    uint r0 = gl_WorkGroupID.x * 32u;
    uint c0 = gl_WorkGroupID.y * 32u;
    uint t = gl_LocalInvocationID.x;
    uint tx = t % 16u, ty = t / 16u;
    uint lr = t / 8u, lk = (t % 8u) * 4u;  // loader: one tile row, 4 consecutive k
    float acc00 = 0.0, acc01 = 0.0, acc10 = 0.0, acc11 = 0.0;
    uint r = r0 + lr;
    uint c = c0 + lr;
    for (uint k0 = 0u; k0 < pc.ne0; k0 += 32u) {
        for (uint i = 0u; i < 4u; ++i) {
            uint k = k0 + lk + i;
            bool kin = k < pc.ne0;
            ws[lr][lk + i] = (r < pc.rows && kin) ? deq(pc.w_base + r * pc.row_stride, k) : 0.0;
            xs[lr][lk + i] = (c < pc.ncols && kin) ? xv[pc.x_off + c * pc.ne0 + k] : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < 32u; ++kk) {
            float w0 = ws[ty][kk], w1 = ws[ty + 16u][kk];
            float x0 = xs[tx][kk], x1 = xs[tx + 16u][kk];
            acc00 += w0 * x0;
            acc01 += w0 * x1;
            acc10 += w1 * x0;
            acc11 += w1 * x1;
        }
        barrier();
    }
    uint ra = r0 + ty, rb = r0 + ty + 16u;
    uint ca = c0 + tx, cb = c0 + tx + 16u;
    if (ra < pc.rows && ca < pc.ncols) yv[pc.y_off + ca * pc.rows + ra] = acc00;
    if (ra < pc.rows && cb < pc.ncols) yv[pc.y_off + cb * pc.rows + ra] = acc01;
    if (rb < pc.rows && ca < pc.ncols) yv[pc.y_off + ca * pc.rows + rb] = acc10;
    if (rb < pc.rows && cb < pc.ncols) yv[pc.y_off + cb * pc.rows + rb] = acc11;
}
