// Shared by matvec_w.comp and matvec_dp.comp: bindings 1-4, push constants, and the end of main() (the
// reduction of the teams' row sums and the split-K merge). Include after common.glsl, with WG, TEAMS,
// R_PER_TEAM, RPW and SPLIT_CNT defined, and RED (a shared float array of at least WG * R_PER_TEAM,
// free once the last chunk is done), LAST_SET(v) and LAST_IS_SET (a shared flag).
layout(std430, binding = 1) readonly buffer Xbuf { float xv[]; };
layout(std430, binding = 2) buffer Ybuf { float yv[]; };
layout(std430, binding = 3) readonly buffer Nbuf { float nv[]; };  // norm weights (mode bit 1)
// Split-K scratch: coherent, so that the last workgroup of a row block reads the other workgroups'
// partials from memory rather than from a stale cache.
layout(std430, binding = 4) coherent buffer Pf { float part[]; };
layout(std430, binding = 4) coherent buffer Pc { uint cnt[]; };
layout(push_constant) uniform PC {
    uint w_base;      // bytes
    uint row_stride;  // bytes
    uint ne0;
    uint rows;
    uint x_off;       // floats
    uint y_off;       // floats
    uint mode;        // bit 0: y[row] += result; bit 1: rms_norm input; bit 2: swiglu input;
                      // bit 3: matvec_dp ROUNDED_OUT of a gate|up matvec rounds silu(gate) * up
    uint nw_off;      // floats: norm weights (mode bit 1)
    float eps;        // rms_norm epsilon (mode bit 1)
    uint slice_words; // a row's K slice (matvec_w: words of codes; matvec_dp: 16 elements), all when splits == 1
    uint splits;      // K slices (workgroup rows in y); 1: no split-K
    uint q_off;       // matvec_dp ROUNDED_OUT: the rounded output at binding 5 (words)
    uint q_order;     // matvec_dp ROUNDED_OUT: element order of the consumer's x words (xelem_of)
    uint q_in;        // matvec_dp ROUNDED_IN: the rounded input at binding 5 (words)
} pc;

// ROW_FINAL(i, v), when the includer defines it, sees the final value v of the workgroup's row i (0 ..
// RPW - 1) as it is stored into y (after the residual add and the split-K merge).
#ifndef ROW_FINAL
#define ROW_FINAL(i, v)
#endif

// The sum of one row (of one K slice): into y, or into the split-K partials.
void store_row(uint row, uint slice, float s) {
    if (pc.splits > 1u) {
        part[SPLIT_CNT + slice * pc.rows + row] = s;
        return;
    }
    uint yi = pc.y_off + row;
    float v = (pc.mode & 1u) != 0u ? yv[yi] + s : s;
    yv[yi] = v;
    ROW_FINAL(row % RPW, v);
}

// The end of main(): acc[r] is this lane's part of row row0 + r (of K slice `slice`, row block rb).
// Uniform control flow: every invocation must call it.
void finish_rows(float acc[R_PER_TEAM], uint row0, uint rb, uint slice) {
    uint tid = gl_LocalInvocationID.x;
    uint team = tid / 32u, lane = tid % 32u;
    bool split = pc.splits > 1u;
    if (gl_SubgroupSize == 32u) {
        [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) {
            float s = subgroupAdd(acc[r]);
            uint row = row0 + r;
            if (lane == 0u && row < pc.rows) store_row(row, slice, s);
        }
    } else {
        // RED is free now: it holds the partial sums (no shared memory of its own, so that more
        // workgroups fit on a multiprocessor).
        barrier();
        [[unroll]] for (uint r = 0u; r < R_PER_TEAM; ++r) RED[r * WG + tid] = acc[r];
        barrier();
        if (lane < R_PER_TEAM) {
            uint r = lane;
            uint row = row0 + r;
            float s = 0.0;
            for (uint i = 0u; i < 32u; ++i) s += RED[r * WG + team * 32u + i];
            if (row < pc.rows) store_row(row, slice, s);
        }
    }

    if (split) {  // uniform: every invocation reaches the barriers
        memoryBarrierBuffer();  // this workgroup's partials are visible before its counter increment
        barrier();
        if (tid == 0u) LAST_SET(atomicAdd(cnt[rb], 1u) == pc.splits - 1u);
        barrier();
        if (LAST_IS_SET) {
            memoryBarrierBuffer();
            if (tid < RPW) {
                uint row = rb * RPW + tid;
                if (row < pc.rows) {
                    float s = 0.0;
                    for (uint q = 0u; q < pc.splits; ++q) s += part[SPLIT_CNT + q * pc.rows + row];
                    uint yi = pc.y_off + row;
                    float v = (pc.mode & 1u) != 0u ? yv[yi] + s : s;
                    yv[yi] = v;
                    ROW_FINAL(tid, v);
                }
            }
            if (tid == 0u) cnt[rb] = 0u;
        }
    }
}
