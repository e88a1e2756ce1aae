#version 450
// Probe of a persistent decode kernel (VulkanBackend::measure_matvec_chain; a diagnostic, the forward pass
// does not use it): pc.phases dependent Q1_0 matvecs y_{p+1} = W_p · y_p (4096 x 4096 each) in ONE dispatch,
// the phases separated by grid-wide barriers (as grid_barrier.comp) instead of dispatch boundaries.
//
// Each of the dispatch's workgroups takes row blocks g, g + G, ... of every phase (G = workgroups), so any
// number of workgroups computes the same result: one workgroup (lavapipe, which does not run several at
// once) or one per multiprocessor. A phase quantizes its input as matvec_dp.comp does (int8 per 32 with
// llama.cpp's rounding, into shared memory, swizzled), then 8 teams of 32 lanes take 4 rows each, lane l
// one 128-weight block of the row (4 code words, 8 packed dot products per word).
//
// pc.flags bit 0 (preload): a workgroup loads the code words of its first row block of the next phase
// before it waits at the barrier (the weights do not depend on the activations), the idea a real
// persistent kernel would rely on to hide the memory latency behind the barrier. Bit 1 (producer
// quantizes): a row block is 32 rows, i.e. one int8 block of the next phase's input, so the workgroup
// that computes it also rounds it (same rule) into qx, in the order the consumers keep in shared memory;
// every later phase then copies 4.5 KiB of ready words instead of reading 16 KiB of floats and
// reducing, rounding and summing them itself. The host may also run the chain one phase per dispatch
// (pc.first, pc.count = 1): the producer-quantized inputs without the persistent kernel.
#define WG 256
#define TEAMS 8u
#define RPT 4u              // rows per team
#define RPW (TEAMS * RPT)   // rows per row block
#define XN 4096u            // elements of every input (and rows of every matrix)
#define NB (XN / 128u)      // Q1_0 blocks per row: one per lane
#define ROW_BYTES (NB * 18u)
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_spirv_intrinsics : require

// Packed 4 x 8-bit dot product, a signed and b unsigned (SPV_KHR_integer_dot_product, as matvec_dp.comp).
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6018, 6019], id = 4452)
int sudot_raw(uint a, uint b, spirv_literal int format);
int sudot(uint a, uint b) { return sudot_raw(a, b, 0); }

layout(std430, binding = 0) readonly buffer Wb32 { uint wu[]; };
layout(std430, binding = 0) readonly buffer Wb16 { uint16_t wh[]; };
layout(std430, binding = 1) coherent buffer Vec { float vec[]; };  // y_0, y_1, ..., XN floats each
layout(std430, binding = 2) coherent volatile buffer Counters {
    uint arrive;
    uint timeouts;
};
// flags bit 1: per phase QX_STRIDE words: XN / 4 packed int8 words, XN / 32 scales (float bits), XN / 32
// sums of q.
layout(std430, binding = 3) coherent buffer Qx { uint qx[]; };
#define QX_STRIDE (XN / 4u + 2u * (XN / 32u))

layout(push_constant) uniform Push {
    uint phases;      // of the whole chain
    uint first;       // this dispatch runs phases first .. first + count - 1
    uint count;
    uint mat_bytes;   // bytes per matrix (XN rows of ROW_BYTES)
    uint spin_limit;
    uint flags;  // bit 0: preload, bit 1: producer quantizes
} pc;

shared uint xq[XN / 4u];    // int8 x, 4 per word, word 8b + k of block b holds elements k + 8j (j < 4)
shared float xd[XN / 32u];  // scale per 32
shared int xs[XN / 32u];    // sum of q per 32
shared float scr[WG * RPT];
shared float rowv[RPW];  // flags bit 1: the row block's results

uint sw(uint i) { return i ^ ((i >> 5u) & 31u); }

// The 4 code words of Q1_0 block u of the row at byte offset ro (the block's bits start 2 bytes in).
void load_block(uint ro, uint u, out uint cw[4], out float dw) {
    uint o = ro + u * 18u;
    dw = unpackHalf2x16(uint(wh[o >> 1u])).x;
    uint a = (o + 2u) >> 2u;
    bool odd = ((o + 2u) & 2u) != 0u;
    uint prev = wu[a];
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        uint next = wu[a + i + 1u];
        cw[i] = odd ? (prev >> 16u) | (next << 16u) : prev;
        prev = next;
    }
}

void grid_sync(uint round) {
    memoryBarrierBuffer();
    barrier();
    if (gl_LocalInvocationID.x == 0u) {
        atomicAdd(arrive, 1u);
        uint target = (round + 1u) * gl_NumWorkGroups.x, polls = 0u;
        while (arrive < target && polls < pc.spin_limit) ++polls;
        if (polls == pc.spin_limit) atomicAdd(timeouts, 1u);
    }
    barrier();
    memoryBarrierBuffer();
}

void main() {
    uint tid = gl_LocalInvocationID.x, team = tid / 32u, lane = tid % 32u;
    uint G = gl_NumWorkGroups.x, n_rb = XN / RPW;
    uint pre_cw[RPT][4];
    float pre_dw[RPT];
    bool have_pre = false;
    uint end = pc.first + pc.count;
    for (uint p = pc.first; p < end; ++p) {
        bool prequant = (pc.flags & 2u) != 0u;
        if (prequant && p > 0u) {
            // The producers rounded y_p already: copy the words, scales and sums.
            uint qb = p * QX_STRIDE;
            for (uint i = tid; i < XN / 4u; i += WG) xq[sw(i)] = qx[qb + i];
            if (tid < XN / 32u) {
                xd[tid] = uintBitsToFloat(qx[qb + XN / 4u + tid]);
                xs[tid] = int(qx[qb + XN / 4u + XN / 32u + tid]);
            }
            barrier();
        } else {
        // Quantize y_p: thread t takes half t % 2 of block t / 2 (x words 4(t % 2) .. + 3).
        uint blk = tid / 2u, x0 = p * XN;
        float v[16];
        float am = 0.0;
        [[unroll]] for (uint i = 0u; i < 16u; ++i) {
            uint k = (tid % 2u) * 4u + i / 4u, j = i % 4u;
            v[i] = vec[x0 + 32u * blk + k + 8u * j];
            am = max(am, abs(v[i]));
        }
        scr[tid] = am;
        barrier();
        am = max(scr[tid & ~1u], scr[tid | 1u]);
        float id = am > 0.0 ? 127.0 / am : 0.0;
        int qsum = 0;
        [[unroll]] for (uint w = 0u; w < 4u; ++w) {
            int q[4];
            [[unroll]] for (uint j = 0u; j < 4u; ++j) {
                q[j] = clamp(int(round(v[4u * w + j] * id)), -127, 127);
                qsum += q[j];
            }
            xq[sw(8u * blk + (tid % 2u) * 4u + w)] = uint(q[0] & 255) | (uint(q[1] & 255) << 8) |
                                                     (uint(q[2] & 255) << 16) | (uint(q[3] & 255) << 24);
        }
        barrier();
        scr[tid] = float(qsum);
        barrier();
        if ((tid & 1u) == 0u) {
            xd[blk] = am / 127.0;
            xs[blk] = int(scr[tid]) + int(scr[tid + 1u]);
        }
        barrier();
        }

        for (uint rb = gl_WorkGroupID.x; rb < n_rb; rb += G) {
            uint row0 = rb * RPW + team * RPT;
            float acc[RPT];
            [[unroll]] for (uint r = 0u; r < RPT; ++r) {
                uint cw[4];
                float dw;
                if (have_pre && rb == gl_WorkGroupID.x) {
                    cw = pre_cw[r];
                    dw = pre_dw[r];
                } else {
                    load_block(p * pc.mat_bytes + (row0 + r) * ROW_BYTES, lane, cw, dw);
                }
                float t = 0.0;
                [[unroll]] for (uint i = 0u; i < 4u; ++i) {
                    uint b = 4u * lane + i;  // x block of code word i
                    int s = 0;
                    [[unroll]] for (uint k = 0u; k < 8u; ++k) s += sudot(xq[sw(8u * b + k)], (cw[i] >> k) & 0x01010101u);
                    t += xd[b] * float(2 * s - xs[b]);
                }
                acc[r] = dw * t;
            }
            // Team sums through shared memory (any subgroup size).
            [[unroll]] for (uint r = 0u; r < RPT; ++r) scr[r * WG + tid] = acc[r];
            barrier();
            if (lane < RPT) {
                float s = 0.0;
                for (uint i = 0u; i < 32u; ++i) s += scr[lane * WG + team * 32u + i];
                vec[(p + 1u) * XN + row0 + lane] = s;
                rowv[team * RPT + lane] = s;
            }
            barrier();
            if (prequant && p + 1u < pc.phases && tid < 8u) {
                // Round the block (rows rb * 32 ..) as the consumers would: thread k packs word k
                // (elements k, k + 8, k + 16, k + 24); thread 0 also writes the scale and the sum.
                float bm = 0.0;
                for (uint e = 0u; e < 32u; ++e) bm = max(bm, abs(rowv[e]));
                float bid = bm > 0.0 ? 127.0 / bm : 0.0;
                uint word = 0u;
                int bsum = 0;
                for (uint e = 0u; e < 32u; ++e) {
                    int q = clamp(int(round(rowv[e] * bid)), -127, 127);
                    bsum += q;
                    if (e % 8u == tid) word |= uint(q & 255) << (8u * (e / 8u));
                }
                uint qb = (p + 1u) * QX_STRIDE;
                qx[qb + rb * 8u + tid] = word;
                if (tid == 0u) {
                    qx[qb + XN / 4u + rb] = floatBitsToUint(bm / 127.0);
                    qx[qb + XN / 4u + XN / 32u + rb] = uint(bsum);
                }
            }
            barrier();
        }
        have_pre = false;
        if ((pc.flags & 1u) != 0u && p + 1u < end && gl_WorkGroupID.x < n_rb) {
            uint row0 = gl_WorkGroupID.x * RPW + team * RPT;
            [[unroll]] for (uint r = 0u; r < RPT; ++r)
                load_block((p + 1u) * pc.mat_bytes + (row0 + r) * ROW_BYTES, lane, pre_cw[r], pre_dw[r]);
            have_pre = true;
        }
        if (p + 1u < end) grid_sync(p - pc.first);
    }
}
